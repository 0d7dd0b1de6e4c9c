package output

import (
	"encoding/json"
	"fmt"
	"io"
)

// sarif writes SARIF 2.1.0 with one result per finding; other records are
// left out (SARIF has no place for them). Results stream between a fixed
// header and footer, so memory does not grow with the number of findings.
type sarif struct {
	w     io.Writer
	count int
	err   error
}

var sarifRules = []struct{ id, text string }{
	{"cn_resident_id", "Chinese resident ID number (居民身份证号) stored in plaintext"},
	{"cn_mobile", "Mainland mobile number (手机号) stored in plaintext"},
	{"bank_card", "Payment card number (银行卡号) stored in plaintext"},
	{"cn_uscc", "Unified social credit code (统一社会信用代码) stored in plaintext"},
	{"email", "E-mail address stored in plaintext"},
	{"cn_passport", "Passport number (护照号) stored in plaintext"},
	{"cn_hmt_permit", "Hong Kong/Macao/Taiwan travel permit number (通行证) stored in plaintext"},
}

func newSARIF(w io.Writer) *sarif { return &sarif{w: w} }

func (s *sarif) header() {
	type rule struct {
		ID   string            `json:"id"`
		Desc map[string]string `json:"shortDescription"`
	}
	rules := make([]rule, len(sarifRules))
	for i, r := range sarifRules {
		rules[i] = rule{ID: r.id, Desc: map[string]string{"text": r.text}}
	}
	driver, _ := json.Marshal(map[string]any{"name": "atrest", "informationUri": "https://github.com/atrest/atrest", "rules": rules})
	_, s.err = fmt.Fprintf(s.w, `{"version":"2.1.0","$schema":"https://json.schemastore.org/sarif-2.1.0.json","runs":[{"tool":{"driver":%s},"results":[`, driver)
}

func (s *sarif) Write(rec any) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	var f struct {
		Record, Path, Member, Type, Masked, Fingerprint string
		Line                                            int
	}
	if err := json.Unmarshal(b, &f); err != nil || f.Record != "finding" {
		return err
	}
	if s.count == 0 {
		s.header()
	}
	uri := f.Path
	if f.Member != "" {
		uri += "!/" + f.Member
	}
	loc := map[string]any{"artifactLocation": map[string]string{"uri": uri}}
	if f.Line > 0 {
		loc["region"] = map[string]int{"startLine": f.Line}
	}
	res := map[string]any{
		"ruleId":              f.Type,
		"level":               "error",
		"message":             map[string]string{"text": fmt.Sprintf("%s %s stored in plaintext", f.Type, f.Masked)},
		"locations":           []any{map[string]any{"physicalLocation": loc}},
		"partialFingerprints": map[string]string{"atrestFingerprint/v1": f.Fingerprint},
	}
	out, err := json.Marshal(res)
	if err != nil {
		return err
	}
	if s.count > 0 {
		io.WriteString(s.w, ",")
	}
	s.count++
	_, err = s.w.Write(out)
	return err
}

func (s *sarif) Close() error {
	if s.count == 0 {
		s.header()
	}
	if s.err != nil {
		return s.err
	}
	_, err := io.WriteString(s.w, "]}]}\n")
	return err
}
