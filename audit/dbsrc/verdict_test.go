package dbsrc

import (
	"bytes"
	"crypto/aes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/atrest/atrest/audit/detect"
	"github.com/atrest/atrest/crypto"
	"github.com/atrest/atrest/engine"
)

// judge runs n generated values through a column's stats.
func judge(name, comment string, n int, gen func(r *rand.Rand, i int) string) *ColumnVerdict {
	c := &column{Column: &engine.Column{Name: name, Comment: comment, DataType: "varchar", ColumnType: "varchar(255)", Sampled: true},
		hint: hintFor(name, comment)}
	st := newColStats(c, nil)
	r := rand.New(rand.NewPCG(7, 7))
	for i := range n {
		st.add([]byte(gen(r, i)))
	}
	return st.verdict()
}

func TestVerdicts(t *testing.T) {
	key := make([]byte, 16)
	for _, c := range []struct {
		name, column, comment string
		gen                   func(r *rand.Rand, i int) string
		state                 string
		typ                   detect.Type
	}{
		{"id column", "sfzh", "", func(r *rand.Rand, _ int) string { return genID(r) }, StatePlaintext, detect.ResidentID},
		{"id column, no hint", "c1", "", func(r *rand.Rand, _ int) string { return genID(r) }, StatePlaintext, detect.ResidentID},
		{"id column, dirty", "c1", "", func(r *rand.Rand, i int) string {
			if i%10 == 0 {
				return "无"
			}
			return genID(r)
		}, StatePlaintext, detect.ResidentID},
		{"serials", "jsid", "", func(r *rand.Rand, _ int) string { return genSerial(r) }, StateNone, ""},
		{"serials named like IDs", "zjhm", "", func(r *rand.Rand, _ int) string { return genSerial(r) }, StateNone, ""},
		{"serials with comment", "c1", "结算流水号", func(r *rand.Rand, _ int) string { return genSerial(r) }, StateNone, ""},
		{"mobiles as numbers", "c2", "", func(r *rand.Rand, _ int) string { return genMobile(r) }, StatePlaintext, detect.Mobile},
		// 11-digit numbers starting with 1: half have an allocated prefix by chance.
		{"random 1xx numbers", "c3", "", func(r *rand.Rand, _ int) string { return fmt.Sprintf("1%010d", r.Int64N(1e10)) }, StateNone, ""},
		{"cards", "yhkh", "", func(r *rand.Rand, _ int) string { return genCard(r) }, StatePlaintext, detect.BankCard},
		{"random 19-digit numbers", "c4", "", func(r *rand.Rand, _ int) string { return fmt.Sprintf("62%017d", r.Int64N(1e17)) }, StateNone, ""},
		{"remark, 35% phones", "remark", "", func(r *rand.Rand, _ int) string {
			if r.Float64() < 0.35 {
				return "联系" + genMobile(r)
			}
			return "无"
		}, StatePlaintext, detect.Mobile},
		{"remark, 20% phones and 20% ids", "remark", "", func(r *rand.Rand, _ int) string {
			switch x := r.Float64(); {
			case x < 0.2:
				return "联系" + genMobile(r)
			case x < 0.45:
				return "证件 " + genID(r)
			}
			return "无"
		}, StatePlaintext, detect.ResidentID},
		{"json with ids", "ext", "", func(r *rand.Rand, _ int) string { return `{"idNo":"` + genID(r) + `","lvl":1}` }, StatePlaintext, detect.ResidentID},
		{"note, 3% decoy ids", "note", "", func(r *rand.Rand, _ int) string { return genNote(r, 0.03) }, StateNone, ""},
		{"note, 35% ids", "note", "", func(r *rand.Rand, _ int) string { return genNote(r, 0.35) }, StatePlaintext, detect.ResidentID},
		{"masked ids", "c5", "", func(r *rand.Rand, _ int) string { return crypto.Mask(genID(r)) }, StateMasked, detect.ResidentID},
		{"masked mobiles", "c6", "", func(r *rand.Rand, _ int) string { return crypto.Mask(genMobile(r)) }, StateMasked, detect.Mobile},
		{"masked cards", "c7", "", func(r *rand.Rand, _ int) string { return crypto.Mask(genCard(r))[:16] + "123" }, StateMasked, detect.BankCard},
		{"masked emails", "c8", "", func(r *rand.Rand, i int) string { return fmt.Sprintf("u%d***@qq.com", i%10) }, StateMasked, detect.Email},
		{"sha256 of ids", "sfzh_hash", "", func(r *rand.Rand, _ int) string {
			s := sha256.Sum256([]byte(genID(r)))
			return hex.EncodeToString(s[:])
		}, StateHashed, detect.ResidentID},
		{"ciphertext", "payload", "", func(r *rand.Rand, _ int) string {
			b := make([]byte, 40+r.IntN(20))
			for i := range b {
				b[i] = byte(r.Uint32())
			}
			return string(b)
		}, StateEncrypted, ""},
		{"names", "psn_name", "", func(r *rand.Rand, i int) string { return []string{"张三", "李四", "王五"}[i%3] }, StateNone, ""},
		{"all empty", "c9", "", func(r *rand.Rand, _ int) string { return "  " }, StateNone, ""},
	} {
		_ = key
		t.Run(c.name, func(t *testing.T) {
			v := judge(c.column, c.comment, 1000, c.gen)
			if v.State != c.state || v.Type != c.typ {
				t.Errorf("%s/%s, want %s/%s (%s; ratio %.3f pass %.3f)", v.State, v.Type, c.state, c.typ, v.Reason, v.Ratio, v.PassRate)
			}
		})
	}
}

// TestSerialPassRate shows why serials are not IDs: about 1 in 11 passes.
func TestSerialPassRate(t *testing.T) {
	v := judge("trade_no", "", 2000, func(r *rand.Rand, _ int) string { return genSerial(r) })
	if v.PassRate < 0.05 || v.PassRate > 0.14 {
		t.Fatalf("serial pass rate %.3f, want ≈ 1/11", v.PassRate)
	}
	if v.State != StateNone {
		t.Fatalf("state %s", v.State)
	}
}

// A hint lowers the coverage needed, never makes a column plaintext alone.
func TestHintNeverDecidesAlone(t *testing.T) {
	v := judge("sfzh", "身份证号", 1000, func(r *rand.Rand, _ int) string { return "未登记" })
	if v.State != StateNone || v.Confidence != ConfidenceMedium {
		t.Fatalf("%s with %s confidence", v.State, v.Confidence)
	}
	share := func(p float64) func(r *rand.Rand, _ int) string {
		return func(r *rand.Rand, _ int) string {
			if r.Float64() < p {
				return genID(r)
			}
			return "未登记"
		}
	}
	if v := judge("sfzh", "", 1000, share(0.2)); v.State != StatePlaintext {
		t.Errorf("hinted column with 20%% IDs: %s", v.State)
	}
	if v := judge("c1", "", 1000, share(0.2)); v.State != StateNone {
		t.Errorf("unhinted column with 20%% IDs: %s", v.State)
	}
}

func TestVerdictKeepsNoValue(t *testing.T) {
	var seen []string
	v := judge("sfzh", "", 50, func(r *rand.Rand, _ int) string {
		id := genID(r)
		seen = append(seen, id)
		return id
	})
	out := fmt.Sprintf("%+v", *v)
	for _, id := range seen {
		if strings.Contains(out, id) {
			t.Fatalf("verdict holds a raw value")
		}
	}
	if v.MaskedExample == "" || !strings.Contains(v.MaskedExample, "*") {
		t.Fatalf("masked example %q", v.MaskedExample)
	}
}

func TestHints(t *testing.T) {
	for _, c := range []struct {
		name, comment string
		want          detect.Type
		any           bool
	}{
		{"sfzh", "", detect.ResidentID, true},
		{"SFZH", "", detect.ResidentID, true},
		{"id_card_no", "", detect.ResidentID, true},
		{"idCardNo", "", detect.ResidentID, true},
		{"mdtrt_cert_no", "", detect.ResidentID, true},
		{"certno", "", detect.ResidentID, true},
		{"zjhm", "", detect.ResidentID, true},
		{"sjhm", "", detect.Mobile, true},
		{"lxdh", "", detect.Mobile, true},
		{"contact_phone_masked", "", detect.Mobile, true},
		{"yhkh", "", detect.BankCard, true},
		{"bank_card_enc", "", detect.BankCard, true},
		{"credit_code", "", detect.USCC, true},
		{"contact_email", "", detect.Email, true},
		{"passport_no", "", detect.Passport, true},
		{"psn_no", "", "", true},
		{"psn_name", "", "", true},
		{"c1", "身份证号码", detect.ResidentID, true},
		{"c1", "手机号", detect.Mobile, true},
		{"身份证号", "", detect.ResidentID, true},
		{"c1", "银行卡号", detect.BankCard, true},
		{"c1", "统一社会信用代码", detect.USCC, true},
		{"trade_no", "", "", false},
		{"device_imei", "", "", false},
		{"hotel", "", "", false},
		{"paid_no", "", "", false},
		{"remark", "", "", false},
		{"created_ms", "创建时间", "", false},
	} {
		h := hintFor(c.name, c.comment)
		var got detect.Type
		if len(h.types) > 0 {
			got = h.types[0]
		}
		if got != c.want || h.any() != c.any {
			t.Errorf("hintFor(%q, %q) = %v %v, want %v %v", c.name, c.comment, got, h.any(), c.want, c.any)
		}
	}
	if h := hintFor("zjhm", ""); !h.has(detect.Passport) || !h.has(detect.HMTPermit) {
		t.Errorf("zjhm (证件号码) should admit passports and permits: %v", h.types)
	}
}

func TestShapes(t *testing.T) {
	for _, c := range []struct {
		in   string
		want shapeSet
	}{
		{"11010519491231002X", shapeID | shapeUSCC},
		{"110105194912310021", shapeID | shapeCard | shapeUSCC},
		{"13812345678", shapeMobile},
		{"138 1234 5678", shapeMobile},
		{"+86 138 1234 5678", shapeMobile},
		{"１３８１２３４５６７８", shapeMobile},
		{"6222 0212 3456 7890 123", shapeCard},
		{"91330106MA2CFXXX0P", shapeUSCC},
		{"a@b.cn", shapeEmail},
		{"trace 1732456789012 ok", 0},
		{"0755-56719060", 0},
		{"138****5678", 0},
		{"abc13812345678", 0},
		{"ba7f3c771449456dd7cf5677399d5bc64fc37dc3e1d70d47af4751a1d3cb4065", 0},
	} {
		if got := shapes([]byte(c.in)); got != c.want {
			t.Errorf("shapes(%q) = %05b, want %05b", c.in, got, c.want)
		}
	}
}

func TestMaskedType(t *testing.T) {
	for _, c := range []struct {
		in, column string
		want       detect.Type
	}{
		{"138****5678", "c", detect.Mobile},
		{"+86 138 **** 5678", "c", detect.Mobile},
		{"110***********1234", "c", detect.ResidentID},
		{"140********8974", "c", detect.ResidentID},
		{"622***********1234", "yhkh", detect.BankCard},
		{"622202******1234", "c", detect.BankCard},
		{"z***@qq.com", "c", detect.Email},
	} {
		if got := maskedType(c.in, hintFor(c.column, "")); got != c.want {
			t.Errorf("maskedType(%q) = %q, want %q", c.in, got, c.want)
		}
	}
}

func TestSeverity(t *testing.T) {
	v := &ColumnVerdict{}
	if severity(StatePlaintext, false, v) != SeverityHigh || severity(StatePlaintext, true, v) != SeverityMedium {
		t.Fatal("plaintext in an unencrypted table must be the worst case")
	}
	if severity(StateEncrypted, false, v) != "" || severity(StateNone, false, v) != "" {
		t.Fatal("encrypted and none are no finding")
	}
}

// TestChanceDoesNotPass: small samples of look-alikes must not come out
// plaintext by luck, and small samples of the real thing must.
func TestChanceDoesNotPass(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 3))
	for _, c := range []struct {
		name string
		n    int
		gen  func() string
		max  int // plaintext verdicts allowed in 200 trials
	}{
		{"30 random 1xx numbers", 30, func() string { return fmt.Sprintf("1%010d", r.Int64N(1e10)) }, 1},
		{"30 serials", 30, func() string { return genSerial(r) }, 1},
		{"1000 serials", 1000, func() string { return genSerial(r) }, 0},
		{"300 notes, 3% ids", 300, func() string { return genNote(r, 0.03) }, 0},
	} {
		alarms := 0
		for range 200 {
			c2 := &column{Column: &engine.Column{Name: "c", DataType: "varchar", Sampled: true}}
			st := newColStats(c2, nil)
			for range c.n {
				st.add([]byte(c.gen()))
			}
			if st.verdict().State == StatePlaintext {
				alarms++
			}
		}
		if alarms > c.max {
			t.Errorf("%s: plaintext in %d of 200 trials", c.name, alarms)
		}
	}
	for _, c := range []struct {
		column string
		n      int
		gen    func() string
		want   string
	}{
		{"c", 12, func() string { return genMobile(r) }, StatePlaintext},
		{"phone", 5, func() string { return genMobile(r) }, StatePlaintext},
		{"c", 3, func() string { return genID(r) }, StatePlaintext},
		{"c", 3, func() string { return genMobile(r) }, StateNone}, // 3 mobiles are no evidence
	} {
		col := &column{Column: &engine.Column{Name: c.column, DataType: "varchar", Sampled: true}, hint: hintFor(c.column, "")}
		st := newColStats(col, nil)
		for range c.n {
			st.add([]byte(c.gen()))
		}
		if v := st.verdict(); v.State != c.want {
			t.Errorf("%d values in %s: %s, want %s (%s)", c.n, c.column, v.State, c.want, v.Reason)
		}
	}
}

// TestCBCIsEncrypted: AES-CBC with a random IV gives 32-, 48- and 64-byte
// values, all digest sizes; their variety shows they are ciphertext.
func TestCBCIsEncrypted(t *testing.T) {
	v := judge("c", "", 300, func(r *rand.Rand, i int) string {
		b := make([]byte, 32+16*(i%3))
		for j := range b {
			b[j] = byte(r.Uint32())
		}
		return base64.StdEncoding.EncodeToString(b)
	})
	if v.State != StateEncrypted {
		t.Fatalf("%s (%s)", v.State, v.Reason)
	}
	v = judge("c", "", 300, func(r *rand.Rand, i int) string {
		s := sha256.Sum256([]byte(genID(r)))
		return base64.StdEncoding.EncodeToString(s[:])
	})
	if v.State != StateHashed {
		t.Fatalf("base64 sha-256: %s (%s)", v.State, v.Reason)
	}
}

// TestAESEncryptIsEncrypted: HEX(AES_ENCRYPT(id, key)) is 64 hex digits,
// like SHA-256; shared last blocks give ECB away.
func TestAESEncryptIsEncrypted(t *testing.T) {
	key := make([]byte, 16)
	for i := range key {
		key[i] = byte(i * 7)
	}
	blk, _ := aes.NewCipher(key)
	v := judge("sfzh_enc", "", 300, func(r *rand.Rand, _ int) string {
		pt := []byte(genID(r))
		p := 16 - len(pt)%16
		pt = append(pt, bytes.Repeat([]byte{byte(p)}, p)...)
		out := make([]byte, len(pt))
		for i := 0; i < len(pt); i += 16 {
			blk.Encrypt(out[i:], pt[i:i+16])
		}
		return strings.ToUpper(hex.EncodeToString(out))
	})
	if v.State != StateEncrypted || v.Type != detect.ResidentID {
		t.Fatalf("%s/%s (%s)", v.State, v.Type, v.Reason)
	}
}

// TestProtectWordsSettleDigestSizes: AES_ENCRYPT of a phone number is one
// 16-byte block, as long as an MD5; the column name tells which it is.
func TestProtectWordsSettleDigestSizes(t *testing.T) {
	gen := func(r *rand.Rand, _ int) string {
		b := make([]byte, 16)
		for i := range b {
			b[i] = byte(r.Uint32())
		}
		return strings.ToUpper(hex.EncodeToString(b))
	}
	for col, want := range map[string]string{"sjhm_aes": StateEncrypted, "sjhm_md5": StateHashed, "sjhm_x": StateHashed, "phone_encrypted": StateEncrypted} {
		if v := judge(col, "", 200, gen); v.State != want || v.Type != detect.Mobile {
			t.Errorf("%s: %s/%s, want %s/cn_mobile", col, v.State, v.Type, want)
		}
	}
	if v := judge("c1", "手机号加密", 200, gen); v.State != StateEncrypted || v.Type != detect.Mobile {
		t.Errorf("comment 手机号加密: %s/%s", v.State, v.Type)
	}
}
