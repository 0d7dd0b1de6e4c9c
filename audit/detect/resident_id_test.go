package detect

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

func TestResidentID(t *testing.T) {
	id := "11010519491231002X"
	permitHK := withIDCheck("81000019900101123")
	foreign := withIDCheck("91100019900101123")
	settle := wrongIDCheck("52010220130809917") // region + date + sequence, wrong check
	// a settlement number with the wrong ID check that still passes Luhn and
	// starts with 5: no card either, it reads as a broken ID
	var settleLuhn string
	for seq := 0; settleLuhn == ""; seq++ {
		body := fmt.Sprintf("52010220130809%03d", seq)
		if s := wrongIDCheck(body); luhn(s) {
			settleLuhn = s
		}
	}
	future := withIDCheck(fmt.Sprintf("110105%04d0101001", maxYear+1))
	runCases(t, []tcase{
		one("gitleaks example", "身份证号:"+id+" 结算成功", ResidentID, id, ""),
		one("lower x", "sfz="+strings.ToLower(id)+"。", ResidentID, strings.ToLower(id), id),
		one("full-width", "证件号码："+toFullWidth(id)+"，", ResidentID, toFullWidth(id), id),
		one("full-width lower x", "证件号码"+toFullWidth("11010519491231002x"), ResidentID, toFullWidth("11010519491231002x"), id),
		one("HK residence permit", "居住证 "+permitHK, ResidentID, permitHK, ""),
		one("2023 foreign permanent resident", "永居证 "+foreign, ResidentID, foreign, ""),
		one("legacy 15", "旧证 110105491231002 end", ResidentID, "110105491231002", ""),
		one("grouped 6-8-4", "证件 110105 19491231 002X 备注", ResidentID, "110105 19491231 002X", id),
		one("csv field", "1,王伟,"+id+",", ResidentID, id, ""),
		one("json", `{"sfzh":"`+id+`"}`, ResidentID, id, ""),
		one("suffix dash", "scan-"+id+"-01.pdf", ResidentID, id, ""),
		none("wrong check", "身份证号:110105194912310021"),
		none("settlement with wrong check", "处理记录 "+settle+" 耗时"),
		none("settlement with wrong check passing Luhn", "处理记录 "+settleLuhn+" 耗时"),
		none("future birth year", "id "+future),
		none("bad province", "id "+withIDCheck("99010519491231002"[:0]+"20010519491231002")),
		none("bad date", "id "+withIDCheck("11010519490231002")),
		none("inside 23-digit run", "id=12345"+id[:17]+"0"),
		none("inside 23-digit run ending X", "id=79933010620090509933x26"),
		none("letters before", "ID"+id),
		none("letters after", id+"abc"),
		none("full-width digit after", id+"１"),
		none("masked", "id=110***********1234 and 110105********002X"),
		none("legacy 15 bad date", "110105491331002"),
		none("IMEI 86", "IMEI 868300159857312"),
		none("IMEI 35 that reads as a legacy ID", "IMEI "+withLuhn("35010285010112")),
	})
}

func TestValidResidentID(t *testing.T) {
	checkValidator(t, "ValidResidentID", ValidResidentID, []vcase{
		{"11010519491231002X", true},
		{"11010519491231002x", true},
		{"110105194912310021", false},
		{"110105491231002", true},
	})
}

// TestIDCheckLanes checks the multiply-based weighted sum against the sum
// written out, on every check character, for strings and byte slices.
func TestIDCheckLanes(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	for n := 0; n < 100000; n++ {
		body := make([]byte, 17)
		for i := range body {
			body[i] = byte('0' + r.IntN(10))
		}
		if n%10 == 0 {
			copy(body, "99999999999999999") // the largest sum
		}
		sum := 0
		for i, c := range body {
			sum += int(c-'0') * idWeights[i]
		}
		for _, last := range []byte("0123456789Xx") {
			s := string(body) + string(last)
			want := idCheck[sum%11] == last || last == 'x' && idCheck[sum%11] == 'X'
			if got := idCheckOK(s); got != want {
				t.Fatalf("idCheckOK (string, case %d, check %c) = %v, want %v (sum %d)", n, last, got, want, sum)
			}
			if got := idCheckOK([]byte(s)); got != want {
				t.Fatalf("idCheckOK ([]byte, case %d, check %c) = %v, want %v", n, last, got, want)
			}
		}
	}
}
