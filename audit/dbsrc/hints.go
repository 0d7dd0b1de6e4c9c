package dbsrc

import (
	"strings"
	"unicode"

	"github.com/atrest/atrest/audit/detect"
)

// hint is what a column's name or comment suggests it holds. A hint raises
// confidence, lowers the share of identifiers needed to call a column
// plaintext (never to zero: some values must validate), lets the detector
// look for passports and permits, which have no check digit, and names the
// type of masked, hashed and encrypted columns.
type hint struct {
	types    []detect.Type // most specific first; empty for generic personal data
	why      string        // `name "sfzh"`, `comment "身份证号"`
	personal bool          // names personal data (人员编号, 姓名) without a detector type
	// protect is "encrypted" or "hashed" when the name or comment says how
	// the values are protected (sfzh_aes, phone_md5, 加密): digest-sized
	// values cannot tell AES_ENCRYPT of a phone number (16 bytes) from MD5.
	protect string
}

func (h hint) has(t detect.Type) bool {
	for _, x := range h.types {
		if x == t {
			return true
		}
	}
	return false
}

func (h hint) any() bool { return h.why != "" }

var (
	idTypes     = []detect.Type{detect.ResidentID}
	certTypes   = []detect.Type{detect.ResidentID, detect.Passport, detect.HMTPermit} // 证件: any certificate
	mobileTypes = []detect.Type{detect.Mobile}
	cardTypes   = []detect.Type{detect.BankCard}
	usccTypes   = []detect.Type{detect.USCC}
	emailTypes  = []detect.Type{detect.Email}
	passTypes   = []detect.Type{detect.Passport}
	permitTypes = []detect.Type{detect.HMTPermit}
)

// nameWords maps a column-name word (name tokens joined without separators,
// lower case) to the types it suggests. Pinyin initials are what Chinese
// schemas use (sfzh = 身份证号, zjhm = 证件号码 …); psn_no, certno,
// mdtrt_cert_no … are the 医保 platform's field names.
var nameWords = map[string][]detect.Type{}

func init() {
	add := func(types []detect.Type, words ...string) {
		for _, w := range words {
			nameWords[w] = types
		}
	}
	add(idTypes, "sfzh", "sfzhm", "sfz", "sfzjhm", "gmsfhm", "gmsfzh", "shbzh", "shbzhm", "idcard", "idcardno",
		"idcardnum", "idcardnumber", "idno", "idnum", "idnumber", "identitycard", "identityno", "identitynumber",
		"residentid", "nationalid", "citizenid", "ssn", "socialsecurityno", "shebaohao")
	add(certTypes, "zjhm", "zjh", "certno", "certnum", "certnumber", "certificateno", "certificatenumber",
		"mdtrtcertno", "psncertno", "credentialno", "documentno")
	add(mobileTypes, "sjhm", "sjh", "shouji", "mobile", "mobileno", "mobilephone", "phone", "phoneno",
		"phonenumber", "cellphone", "telephone", "tel", "telno", "lxdh", "lxfs", "lxsj", "dhhm", "msisdn")
	add(cardTypes, "yhkh", "yhzh", "bankcard", "bankcardno", "bankaccount", "bankacct", "cardno",
		"cardnumber", "acctno", "accountno", "pan", "card")
	add(usccTypes, "tyshxydm", "shxydm", "xydm", "uscc", "creditcode", "socialcreditcode", "unifiedsocialcreditcode")
	add(emailTypes, "email", "mail", "emailaddr", "emailaddress", "dzyx", "yxdz")
	add(passTypes, "passport", "passportno", "hzhm", "hzh")
	add(permitTypes, "txz", "txzh", "gatxz", "twtxz", "hxz", "tbz", "permit", "permitno")
	add(nil, "psnno", "psnname", "psnid", "rybh", "grbh", "cbrbh", "xm", "insuno", "patientname", "realname", "fullname")
}

var protectWords = map[string]string{
	"enc": "encrypted", "encrypt": "encrypted", "encrypted": "encrypted", "encryption": "encrypted",
	"aes": "encrypted", "sm4": "encrypted", "des": "encrypted", "cipher": "encrypted", "ciphertext": "encrypted",
	"crypt": "encrypted", "crypted": "encrypted", "jm": "encrypted", "jmh": "encrypted", "mw": "encrypted",
	"hash": "hashed", "hashed": "hashed", "md5": "hashed", "sha": "hashed", "sha1": "hashed", "sha224": "hashed",
	"sha256": "hashed", "sha384": "hashed", "sha512": "hashed", "sm3": "hashed", "digest": "hashed", "hmac": "hashed",
}

var protectHanzi = []struct{ word, protect string }{
	{"加密", "encrypted"}, {"密文", "encrypted"}, {"哈希", "hashed"}, {"摘要", "hashed"}, {"散列", "hashed"},
}

func protectFor(s string) string {
	for _, w := range protectHanzi {
		if strings.Contains(s, w.word) {
			return w.protect
		}
	}
	for _, t := range tokens(s) {
		if p, ok := protectWords[t]; ok {
			return p
		}
	}
	return ""
}

// Words in comments or Chinese column names, matched as substrings, longest
// first where one contains another.
var hanziWords = []struct {
	word  string
	types []detect.Type
}{
	{"统一社会信用代码", usccTypes}, {"信用代码", usccTypes},
	{"公民身份号码", idTypes}, {"身份证", idTypes}, {"身份号", idTypes}, {"社会保障号", idTypes}, {"社保号", idTypes},
	{"居住证", idTypes}, // 港澳台居民居住证 numbers are resident-ID numbers
	{"证件号", certTypes}, {"证件", certTypes},
	{"手机", mobileTypes}, {"移动电话", mobileTypes}, {"联系电话", mobileTypes}, {"电话", mobileTypes}, {"联系方式", mobileTypes},
	{"银行卡", cardTypes}, {"银行账号", cardTypes}, {"银行帐号", cardTypes}, {"卡号", cardTypes}, {"社保卡", cardTypes},
	{"邮箱", emailTypes}, {"电子邮件", emailTypes}, {"邮件", emailTypes},
	{"护照", passTypes},
	{"通行证", permitTypes}, {"回乡证", permitTypes}, {"台胞证", permitTypes},
	{"姓名", nil}, {"人员编号", nil}, {"参保人", nil}, {"患者", nil},
}

// hintFor reads a column's name and comment.
func hintFor(name, comment string) hint {
	h := typeHint(name, comment)
	if h.protect = protectFor(name); h.protect == "" {
		h.protect = protectFor(comment)
	}
	return h
}

func typeHint(name, comment string) hint {
	if h := wordsHint(name); h.any() {
		h.why = `name "` + name + `" suggests ` + h.describe()
		return h
	}
	if h := wordsHint(comment); h.any() {
		h.why = `comment "` + abbrevRunes(comment, 40) + `" suggests ` + h.describe()
		return h
	}
	return hint{}
}

func (h hint) describe() string {
	if len(h.types) == 0 {
		return "personal data"
	}
	s := make([]string, len(h.types))
	for i, t := range h.types {
		s[i] = string(t)
	}
	return strings.Join(s, "/")
}

// wordsHint matches name tokens (snake_case, camelCase, kebab) joined in
// windows of up to three, longest first, so id_card is an ID card and not a
// bank "card"; then hanzi words anywhere.
func wordsHint(s string) hint {
	for _, hw := range hanziWords {
		if strings.Contains(s, hw.word) {
			return hint{types: hw.types, why: "-", personal: hw.types == nil}
		}
	}
	toks := tokens(s)
	for size := 3; size >= 1; size-- {
		for i := 0; i+size <= len(toks); i++ {
			w := strings.Join(toks[i:i+size], "")
			if types, ok := nameWords[w]; ok {
				return hint{types: types, why: "-", personal: types == nil}
			}
		}
	}
	return hint{}
}

// tokens splits an identifier into lower-case words: snake_case, kebab-case,
// camelCase and spaces, digits kept with their word (sha256).
func tokens(s string) []string {
	var out []string
	var cur []rune
	flush := func() {
		if len(cur) > 0 {
			out = append(out, strings.ToLower(string(cur)))
			cur = cur[:0]
		}
	}
	rs := []rune(s)
	for i, r := range rs {
		switch {
		case r < 128 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if unicode.IsUpper(r) && i > 0 && len(cur) > 0 &&
				(unicode.IsLower(rs[i-1]) || (i+1 < len(rs) && unicode.IsLower(rs[i+1]) && unicode.IsUpper(rs[i-1]))) {
				flush()
			}
			cur = append(cur, r)
		default:
			flush()
		}
	}
	flush()
	return out
}

func abbrevRunes(s string, n int) string {
	r := []rune(s)
	if len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
