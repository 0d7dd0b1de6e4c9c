package check

import (
	"os"
	"testing"

	"github.com/atrest/atrest/crypto/suite"
)

func BenchmarkLocalDecode(b *testing.B) {
	path := os.Getenv("OBJ")
	if path == "" {
		b.Skip("OBJ")
	}
	key, _ := os.ReadFile(os.Getenv("KEY"))
	ids, err := suite.ParseIdentities(key)
	if err != nil {
		b.Fatal(err)
	}
	st, _ := os.Stat(path)
	b.SetBytes(st.Size())
	for b.Loop() {
		f, _ := os.Open(path)
		src := newSource(f, 64<<10)
		_, plain, sum, e, _ := decode(src, suite.Standard, ids)
		if e != "" || plain == 0 || sum == "" {
			b.Fatal(e)
		}
		src.finish(st.Size())
		f.Close()
	}
}
