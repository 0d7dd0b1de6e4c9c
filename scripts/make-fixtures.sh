#!/usr/bin/env bash
# Makes the format fixtures in testdata/formats with the programs that write
# such files on a hospital's machines: LibreOffice (xls, doc, ods, odt, rtf,
# dbf, pdf, and password-protected xls/doc/odt through python3-uno),
# ghostscript (a re-distilled PDF, an image-only PDF, a PDF with an open
# password), 7-Zip, xz and sqlite3. Every file holds the same 20 fake people
# (scripts/genfixtures, from internal/gen). The fixtures are committed, so
# `make test` needs none of these programs; run this again to remake them:
#
#   apt-get install -y libreoffice-calc-nogui libreoffice-writer-nogui \
#       libreoffice-base-drivers python3-uno p7zip-full xz-utils sqlite3 ghostscript
#   scripts/make-fixtures.sh [OUTDIR]        # default testdata/formats
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=${1:-testdata/formats}
for tool in soffice gs 7z xz sqlite3; do
  command -v "$tool" >/dev/null || { echo "make-fixtures: $tool is missing (see the apt-get line in this script)" >&2; exit 2; }
done
/usr/bin/python3 -c 'import uno' 2>/dev/null || { echo "make-fixtures: python3-uno is missing" >&2; exit 2; }

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
export HOME=$T/home                      # LibreOffice's profile goes here, not in the user's
SRC=$T/src
go run ./scripts/genfixtures -src "$SRC"
# CSV import: UTF-8, comma, quote; ID, card, e-mail and USCC columns as text,
# the mobile column as a number (Excel users type them so: NUMBER/RK cells).
CSV='CSV:44,34,76,1,1/1/2/2/3/2/4/1/5/2/6/2/7/2'
HTML='HTML (StarWriter)'
lo() { # lo FORMAT INFILTER INPUT: convert into $T/lo
  soffice --headless --norestore --convert-to "$1" --infilter="$2" --outdir "$T/lo" "$3" >/dev/null 2>&1
}
lo xls "$CSV" "$SRC/people.csv"
lo xlsx "$CSV" "$SRC/people.csv"
lo ods "$CSV" "$SRC/people.csv"
lo dbf "$CSV" "$SRC/people.csv"
lo pdf "$CSV" "$SRC/people.csv" && mv "$T/lo/people.pdf" "$T/lo/people-calc.pdf"
lo doc "$HTML" "$SRC/people.html"
lo odt "$HTML" "$SRC/people.html"
lo rtf "$HTML" "$SRC/people.html"
lo pdf "$HTML" "$SRC/people.html" && mv "$T/lo/people.pdf" "$T/lo/people-writer.pdf"
cp "$T/lo/people.xlsx" "$SRC/"          # the Outlook mail attaches it

# labels.json (what each fixture holds) is kept: it is written by hand.
rm -rf "$OUT"/{xls,doc,ods,odt,rtf,dbf,pdf,eml,mht,7z,xz,sqlite,locked}
mkdir -p "$OUT"/{xls,doc,ods,odt,rtf,dbf,pdf,eml,mht,7z,xz,sqlite,locked}
cp "$T/lo/people.xls" "$OUT/xls/"
cp "$T/lo/people.doc" "$OUT/doc/"
cp "$T/lo/people.ods" "$OUT/ods/"
cp "$T/lo/people.odt" "$OUT/odt/"
cp "$T/lo/people.rtf" "$OUT/rtf/"
cp "$T/lo/people.dbf" "$OUT/dbf/"
cp "$T/lo/people-calc.pdf" "$T/lo/people-writer.pdf" "$OUT/pdf/"
gs -q -dNOPAUSE -dBATCH -sDEVICE=pdfwrite -o "$OUT/pdf/people-gs.pdf" "$T/lo/people-writer.pdf"
gs -q -dNOPAUSE -dBATCH -sDEVICE=pdfimage8 -r50 -o "$OUT/pdf/people-scan.pdf" "$T/lo/people-writer.pdf"

go run ./scripts/genfixtures -src "$SRC" -mail "$T/mail"
cp "$T/mail/outlook.eml" "$T/mail/foxmail.eml" "$OUT/eml/"
cp "$T/mail/people.mht" "$OUT/mht/"
cp "$T/mail/wordpad.rtf" "$OUT/rtf/"

( cd "$SRC" && 7z a -bso0 -bsp0 "$OLDPWD/$OUT/7z/people.7z" people.csv >/dev/null )
( cd "$SRC" && 7z a -bso0 -bsp0 -psecret -mhe=on "$OLDPWD/$OUT/locked/people-names.7z" people.csv >/dev/null )
( cd "$SRC" && 7z a -bso0 -bsp0 -psecret "$OLDPWD/$OUT/locked/people.7z" people.csv >/dev/null )
xz -c "$SRC/people.csv" > "$OUT/xz/people.csv.xz"
tar -C "$SRC" -cJf "$OUT/xz/people.tar.xz" people.csv

sqlite3 "$OUT/sqlite/people.db" <<SQL
CREATE TABLE cb_ryxx (xh INTEGER PRIMARY KEY, xm TEXT, zjhm TEXT, sjhm INTEGER, yhkh TEXT, email TEXT, dwdm TEXT);
CREATE TABLE js_jsmx (id INTEGER PRIMARY KEY, lsh TEXT, je REAL);
.mode csv
.import --skip 1 $SRC/people.csv cb_ryxx
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20)
INSERT INTO js_jsmx (lsh, je) SELECT '2026120' || (100000 + i * 7919), i * 13.5 FROM n;
SQL

/usr/bin/python3 scripts/lo-save-locked.py secret \
  "$T/lo/people.xls" "$OUT/locked/people.xls" "MS Excel 97" \
  "$T/lo/people.odt" "$OUT/locked/people.doc" "MS Word 97" \
  "$T/lo/people.odt" "$OUT/locked/people.odt" "writer8"
gs -q -dNOPAUSE -dBATCH -sDEVICE=pdfwrite -sOwnerPassword=owner -sUserPassword=secret \
  -o "$OUT/locked/people.pdf" "$T/lo/people-writer.pdf"

echo "make-fixtures: wrote $(find "$OUT" -type f | wc -l) files, $(du -sh "$OUT" | cut -f1), under $OUT"
