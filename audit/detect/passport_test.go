package detect

import (
	"strings"
	"testing"
)

func TestPassportPermit(t *testing.T) {
	runCases(t, []tcase{
		one("passport E", "护照号码：E12345678", Passport, "E12345678", ""),
		one("passport G", "护照 G12345678 签发", Passport, "G12345678", ""),
		one("passport EA", "Passport No. EA1234567", Passport, "EA1234567", ""),
		one("passport lower", "passport: ea1234567", Passport, "ea1234567", "EA1234567"),
		one("passport DE", "外交护照 DE1234567", Passport, "DE1234567", ""),
		one("HK/Macao permit", "往来港澳通行证 C12345678", HMTPermit, "C12345678", ""),
		one("HK/Macao permit CA", "港澳通行证号:CA1234567", HMTPermit, "CA1234567", ""),
		one("Taiwan permit", "往来台湾通行证 L12345678", HMTPermit, "L12345678", ""),
		one("MTP", "台胞证 12345678", HMTPermit, "12345678", ""),
		one("home return permit", "回乡证 H1234567890", HMTPermit, "H1234567890", ""),
		one("home return permit M", "港澳居民来往内地通行证：M12345678", HMTPermit, "M12345678", ""),
		none("no keyword", "单号 E12345678 G12345678 C12345678"),
		none("keyword too far", "护照 "+strings.Repeat("很", 12)+"E12345678"),
		none("keyword before other digits", "护照 2024 E12345678"),
		none("bare 8 digits with a weak keyword", "往来 12345678"),
		none("bare 8 digits in a run", "台胞证 12345678 2024"),
	})
}
