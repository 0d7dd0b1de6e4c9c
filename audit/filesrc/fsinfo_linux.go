package filesrc

import (
	"bufio"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"

	"golang.org/x/sys/unix"
)

// devOf is the device a file lives on, to see a walk cross a mount point.
func devOf(fi fs.FileInfo) (uint64, bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return st.Dev, true
}

// pseudoFS are the kernel filesystems whose files are views of the running
// system, not data at rest: reading them is slow or endless (/proc/kcore,
// /sys/kernel/debug) and says nothing about what is stored.
var pseudoFS = map[string]bool{
	"proc": true, "sysfs": true, "devtmpfs": true, "devpts": true, "cgroup": true, "cgroup2": true,
	"debugfs": true, "tracefs": true, "securityfs": true, "pstore": true, "bpf": true,
	"configfs": true, "fusectl": true, "mqueue": true, "binfmt_misc": true, "efivarfs": true,
	"selinuxfs": true, "nsfs": true, "hugetlbfs": true, "rpc_pipefs": true,
}

var mounts struct {
	once   sync.Once
	fsType map[uint64]string // st_dev → filesystem type, from /proc/self/mountinfo
}

// pseudoFSOf returns the type of the kernel pseudo filesystem on device dev
// (dir is a directory on it), or "". The type comes from mountinfo, which
// names devtmpfs apart from tmpfs; statfs is the fallback where /proc is not
// mounted.
func pseudoFSOf(dir string, dev uint64) string {
	mounts.once.Do(readMountinfo)
	if t, ok := mounts.fsType[dev]; ok {
		if pseudoFS[t] {
			return t
		}
		return ""
	}
	var st unix.Statfs_t
	if unix.Statfs(dir, &st) == nil {
		switch int64(st.Type) {
		case unix.PROC_SUPER_MAGIC:
			return "proc"
		case unix.SYSFS_MAGIC:
			return "sysfs"
		}
	}
	return ""
}

// readMountinfo maps each mounted device to its filesystem type: field 3 is
// major:minor, and the type follows the " - " separator.
func readMountinfo() {
	mounts.fsType = map[uint64]string{}
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, typ := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 3 || len(typ) < 1 {
			continue
		}
		maj, min, ok := strings.Cut(fields[2], ":")
		a, err1 := strconv.ParseUint(maj, 10, 32)
		b, err2 := strconv.ParseUint(min, 10, 32)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		mounts.fsType[unix.Mkdev(uint32(a), uint32(b))] = typ[0]
	}
}
