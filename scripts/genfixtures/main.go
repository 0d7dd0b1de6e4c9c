// Command genfixtures writes the sources of the format fixtures in
// testdata/formats: one set of fake people (internal/gen) as the CSV and
// HTML that scripts/make-fixtures.sh feeds to LibreOffice, 7-Zip, xz, sqlite3
// and ghostscript, and the files no office suite writes here: e-mail as
// Outlook and Foxmail send it, MHTML, and RTF as WordPad writes it on Chinese
// Windows (\ansicpg936, GBK hex escapes).
//
//	go run ./scripts/genfixtures -src DIR            people.csv, people.html
//	go run ./scripts/genfixtures -mail DIR -src DIR  *.eml, *.mht, wordpad.rtf (attachments from -src)
package main

import (
	"bytes"
	"encoding/base64"
	"flag"
	"fmt"
	"log"
	"mime"
	"mime/quotedprintable"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/atrest/atrest/internal/gen"
)

// People is how many people every fixture holds; each has one value of each
// core type.
const People = 20

type person struct{ name, id, mobile, card, email, uscc string }

func people() []person {
	g := gen.New(19)
	ps := make([]person, People)
	for i := range ps {
		ps[i] = person{g.Name(), g.ResidentID(), g.Mobile(), g.Card(), g.Email(), g.USCC()}
	}
	return ps
}

func main() {
	src := flag.String("src", "", "directory of the sources (people.csv, people.html, and the converted attachments)")
	mail := flag.String("mail", "", "write the e-mail, MHTML and WordPad RTF fixtures here")
	flag.Parse()
	if *src == "" {
		log.Fatal("genfixtures: -src DIR is required")
	}
	ps := people()
	if *mail == "" {
		must(os.MkdirAll(*src, 0o755))
		must(os.WriteFile(filepath.Join(*src, "people.csv"), peopleCSV(ps), 0o644))
		must(os.WriteFile(filepath.Join(*src, "people.html"), peopleHTML(ps), 0o644))
		return
	}
	must(os.MkdirAll(*mail, 0o755))
	xlsx, err := os.ReadFile(filepath.Join(*src, "people.xlsx"))
	must(err)
	must(os.WriteFile(filepath.Join(*mail, "outlook.eml"), outlookMail(ps, xlsx), 0o644))
	must(os.WriteFile(filepath.Join(*mail, "foxmail.eml"), foxmailMail(ps), 0o644))
	must(os.WriteFile(filepath.Join(*mail, "people.mht"), mhtml(ps), 0o644))
	must(os.WriteFile(filepath.Join(*mail, "wordpad.rtf"), wordpadRTF(ps), 0o644))
}

func must(err error) {
	if err != nil {
		log.Fatal("genfixtures: ", err)
	}
}

func peopleCSV(ps []person) []byte {
	var b bytes.Buffer
	b.WriteString("序号,姓名,身份证号,手机号码,银行卡号,电子邮箱,单位统一社会信用代码\n")
	for i, p := range ps {
		fmt.Fprintf(&b, "%d,%s,%s,%s,%s,%s,%s\n", i+1, p.name, p.id, p.mobile, p.card, p.email, p.uscc)
	}
	return b.Bytes()
}

// split cuts a value in two, the second half bold: what one later edit of
// the value leaves in a document (two spans in ODF, two groups in RTF, two
// text runs in a PDF).
func split(v string) string {
	h := len(v) / 2
	return v[:h] + "<b>" + v[h:] + "</b>"
}

func peopleHTML(ps []person) []byte {
	var b bytes.Buffer
	b.WriteString("<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>参保人员名单</title></head><body>\n<h1>参保人员信息核对表</h1>\n")
	for i, p := range ps {
		fmt.Fprintf(&b, "<p>%d. 参保人%s，身份证号 %s，联系电话 %s，社保卡银行账号 %s，电子邮箱 %s，所在单位统一社会信用代码 %s。</p>\n",
			i+1, p.name, split(p.id), split(p.mobile), split(p.card), split(p.email), split(p.uscc))
	}
	b.WriteString("<p>经办人签字：__________ 日期：2026年12月6日</p>\n</body></html>\n")
	return b.Bytes()
}

func plainList(ps []person) string {
	var b strings.Builder
	b.WriteString("各位同事：\r\n\r\n附件为本月参保人员核对名单，请于周五前核对。名单如下：\r\n\r\n")
	for i, p := range ps {
		fmt.Fprintf(&b, "%d. %s 身份证号：%s 手机：%s 银行卡：%s 邮箱：%s 单位代码：%s\r\n", i+1, p.name, p.id, p.mobile, p.card, p.email, p.uscc)
	}
	b.WriteString("\r\n医保科\r\n")
	return b.String()
}

func gbk(s string) []byte {
	b, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(s))
	must(err)
	return b
}

func base64Lines(b []byte) string {
	s := base64.StdEncoding.EncodeToString(b)
	var out strings.Builder
	for len(s) > 76 {
		out.WriteString(s[:76] + "\r\n")
		s = s[76:]
	}
	out.WriteString(s + "\r\n")
	return out.String()
}

func qp(b []byte) string {
	var out bytes.Buffer
	w := quotedprintable.NewWriter(&out)
	w.Write(b)
	w.Close()
	return strings.ReplaceAll(strings.ReplaceAll(out.String(), "\r\n", "\n"), "\n", "\r\n")
}

// The boundaries hold a Luhn-valid card-shaped number and the Message-IDs an
// address-shaped token: neither is an identifier of anyone.
const (
	outlookBoundary = "----=_NextPart_000_0012_6222020200112233446"
	foxmailBoundary = "----=_001_NextPart6222020200112233446_=----"
)

// outlookMail is a message as Outlook sends it from a Chinese Windows: a
// GBK text body in base64, a GBK CSV attachment, an xlsx attachment, an
// RFC 2047 subject and attachment names.
func outlookMail(ps []person, xlsx []byte) []byte {
	var csv strings.Builder
	csv.WriteString("序号,姓名,身份证号,手机号码,银行卡号,电子邮箱,单位统一社会信用代码\r\n")
	for i, p := range ps {
		fmt.Fprintf(&csv, "%d,%s,%s,%s,%s,%s,%s\r\n", i+1, p.name, p.id, p.mobile, p.card, p.email, p.uscc)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "From: =?gb2312?B?%s?= <ybk@hospital.org.cn>\r\n", base64.StdEncoding.EncodeToString(gbk("医保科")))
	b.WriteString("To: <jsk@ybj.gov.cn>\r\n")
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.BEncoding.Encode("gb2312", string(gbk("本月参保人员核对名单"))))
	b.WriteString("Date: Sat, 6 Dec 2026 15:30:12 +0800\r\n")
	b.WriteString("Message-ID: <000001db4a12$6222020200112233$445@hospital.org.cn>\r\n")
	b.WriteString("MIME-Version: 1.0\r\n")
	fmt.Fprintf(&b, "Content-Type: multipart/mixed;\r\n\tboundary=\"%s\"\r\n", outlookBoundary)
	b.WriteString("X-Mailer: Microsoft Outlook 16.0\r\nContent-Language: zh-cn\r\n\r\n")
	b.WriteString("This is a multi-part message in MIME format.\r\n\r\n")
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain;\r\n\tcharset=\"gb2312\"\r\nContent-Transfer-Encoding: base64\r\n\r\n", outlookBoundary)
	b.WriteString(base64Lines(gbk(plainList(ps))))
	b.WriteString("\r\n")
	csvName := base64.StdEncoding.EncodeToString(gbk("核对名单.csv"))
	fmt.Fprintf(&b, "--%s\r\nContent-Type: application/vnd.ms-excel;\r\n\tname=\"=?gb2312?B?%s?=\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n\tfilename=\"=?gb2312?B?%s?=\"\r\n\r\n", outlookBoundary, csvName, csvName)
	b.WriteString(base64Lines(gbk(csv.String())))
	b.WriteString("\r\n")
	fmt.Fprintf(&b, "--%s\r\nContent-Type: application/vnd.openxmlformats-officedocument.spreadsheetml.sheet;\r\n\tname=\"people.xlsx\"\r\nContent-Transfer-Encoding: base64\r\nContent-Disposition: attachment;\r\n\tfilename=\"people.xlsx\"\r\n\r\n", outlookBoundary)
	b.WriteString(base64Lines(xlsx))
	fmt.Fprintf(&b, "\r\n--%s--\r\n", outlookBoundary)
	return []byte(b.String())
}

// foxmailMail is multipart/alternative with the same list in a
// quoted-printable text part and an HTML part, as Foxmail sends it.
func foxmailMail(ps []person) []byte {
	var html strings.Builder
	html.WriteString("<html><head><meta http-equiv=\"content-type\" content=\"text/html; charset=utf-8\"></head><body>\r\n<div>各位同事：</div><div><br></div>\r\n")
	for i, p := range ps {
		fmt.Fprintf(&html, "<div><span>%d. %s</span> 身份证号：<span style=\"color:#333\">%s</span><span>%s</span> 手机：%s 银行卡：%s 邮箱：<a href=\"mailto:%s\">%s</a> 单位代码：%s</div>\r\n",
			i+1, p.name, p.id[:6], p.id[6:], p.mobile, p.card, p.email, p.email, p.uscc)
	}
	html.WriteString("<div><br></div><div>医保科</div></body></html>\r\n")
	var b strings.Builder
	b.WriteString("Return-Path: <ybk@hospital.org.cn>\r\n")
	b.WriteString("Date: Sat, 6 Dec 2026 16:02:41 +0800\r\n")
	fmt.Fprintf(&b, "From: \"%s\" <ybk@hospital.org.cn>\r\n", mime.BEncoding.Encode("utf-8", "医保科"))
	b.WriteString("To: <jsk@ybj.gov.cn>\r\n")
	fmt.Fprintf(&b, "Subject: %s\r\n", mime.BEncoding.Encode("utf-8", "回复：核对名单"))
	b.WriteString("X-Mailer: Foxmail 7.2.25.254[cn]\r\nMime-Version: 1.0\r\n")
	b.WriteString("Message-ID: <202612061602410623457@hospital.org.cn>\r\n")
	fmt.Fprintf(&b, "Content-Type: multipart/alternative;\r\n\tboundary=\"%s\"\r\n\r\nThis is a multi-part message in MIME format.\r\n\r\n", foxmailBoundary)
	fmt.Fprintf(&b, "--%s\r\nContent-Type: text/plain;\r\n\tcharset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", foxmailBoundary)
	b.WriteString(qp([]byte(plainList(ps))))
	fmt.Fprintf(&b, "\r\n--%s\r\nContent-Type: text/html;\r\n\tcharset=\"utf-8\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n", foxmailBoundary)
	b.WriteString(qp([]byte(html.String())))
	fmt.Fprintf(&b, "\r\n--%s--\r\n", foxmailBoundary)
	return []byte(b.String())
}

// mhtml is a web page saved as a single file: multipart/related with the
// page in quoted-printable GB2312, each value split over two spans.
func mhtml(ps []person) []byte {
	var html strings.Builder
	html.WriteString("<html xmlns:o=\"urn:schemas-microsoft-com:office:office\"><head><meta http-equiv=Content-Type content=\"text/html; charset=gb2312\"><title>名单</title></head><body lang=ZH-CN>\r\n")
	for i, p := range ps {
		fmt.Fprintf(&html, "<p class=MsoNormal><span lang=EN-US>%d.</span>%s身份证号<span lang=EN-US>%s</span><span lang=EN-US style='color:red'>%s</span>，手机<span lang=EN-US>%s</span>，银行卡<span lang=EN-US>%s</span>，邮箱<span lang=EN-US>%s</span>，单位<span lang=EN-US>%s</span><o:p></o:p></p>\r\n",
			i+1, p.name, p.id[:9], p.id[9:], p.mobile, p.card, p.email, p.uscc)
	}
	html.WriteString("</body></html>\r\n")
	const boundary = "----=_NextPart_01DB4A12.6222020200112233"
	var b strings.Builder
	b.WriteString("MIME-Version: 1.0\r\nX-Document-Type: Workbook\r\n")
	fmt.Fprintf(&b, "Content-Type: multipart/related; boundary=\"%s\"\r\n\r\n此文档为“单个文件网页”，也称为“Web 档案”文件。\r\n\r\n", boundary)
	fmt.Fprintf(&b, "--%s\r\nContent-Location: file:///C:/DE2A1F2B/people.htm\r\nContent-Transfer-Encoding: quoted-printable\r\nContent-Type: text/html; charset=\"gb2312\"\r\n\r\n", boundary)
	b.WriteString(qp(gbk(html.String())))
	fmt.Fprintf(&b, "\r\n--%s--\r\n", boundary)
	return gbkHeaderSafe(b.String())
}

// gbkHeaderSafe writes the preamble's Chinese in GBK, as Word does.
func gbkHeaderSafe(s string) []byte { return gbk(s) }

// wordpadRTF is RTF as WordPad writes it on Chinese Windows: \ansicpg936,
// Chinese as GBK hex escapes, each value split over two groups.
func wordpadRTF(ps []person) []byte {
	esc := func(s string) string {
		var b strings.Builder
		for _, c := range gbk(s) {
			if c < 0x80 {
				b.WriteByte(c)
			} else {
				fmt.Fprintf(&b, "\\'%02x", c)
			}
		}
		return b.String()
	}
	grp := func(v string) string { h := len(v) / 2; return v[:h] + "{\\b " + v[h:] + "}" }
	var b strings.Builder
	b.WriteString("{\\rtf1\\ansi\\ansicpg936\\deff0\\nouicompat\\deflang1033\\deflangfe2052{\\fonttbl{\\f0\\fnil\\fcharset134 " + esc("宋体") + ";}}\r\n")
	b.WriteString("{\\*\\generator Riched20 10.0.19041}\\viewkind4\\uc1 \r\n\\pard\\sa200\\sl276\\slmult1\\f0\\fs22\\lang2052 ")
	for i, p := range ps {
		fmt.Fprintf(&b, "%d. %s %s %s %s %s %s %s %s %s %s\\par\r\n", i+1, esc(p.name), esc("身份证号"), grp(p.id), esc("手机"), grp(p.mobile),
			esc("银行卡"), grp(p.card), esc("邮箱"), grp(p.email), grp(p.uscc))
	}
	b.WriteString("}\r\n\x00")
	return []byte(b.String())
}
