package journal

import (
	"bytes"
	"testing"

	"github.com/atrest/atrest/crypto/suite"
	"golang.org/x/mod/sumdb/note"
)

func FuzzParseEntry(f *testing.F) {
	var buf bytes.Buffer
	for i, e := range []Entry{testEntry(1), {Seq: 2, Kind: "user.add", Subject: "a\"b\\c\n", Outcome: "ok", Prev: "00"},
		{Seq: 1 << 40, Kind: "k", Outcome: "o", Detail: "<&>\u2028", Figures: map[string]any{"x": 1.5e300}}} {
		e.Seq = i + 1
		line, _, _, err := encodeLine(&buf, &e, newHasher(suite.Standard))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(line)
		f.Add(line[:len(line)/2])
		f.Add(bytes.Replace(line, []byte(`"prev":""`), []byte(`"prev":"`+e.Hash+`"`), 1))
	}
	f.Add([]byte(`{"seq":1,"prev":"","hash":"` + string(bytes.Repeat([]byte("a"), 64)) + `"}`))
	f.Add([]byte(`{"seq":01,"seq":2}`))
	f.Add([]byte("{\"seq\":99999999999999999999999,\"x\":1}"))
	f.Add([]byte(`{"seq":1,"suite":"sm","prev":"","hash":"` + string(bytes.Repeat([]byte("a"), 64)) + `"}`))
	f.Add([]byte(`{"seq":1,"suite":"gm","prev":"","hash":"` + string(bytes.Repeat([]byte("a"), 64)) + `"}`))
	f.Fuzz(func(t *testing.T, line []byte) {
		if s, err := lineSuite(line); err == nil && s == nil {
			t.Fatal("lineSuite gave no suite and no error")
		}
		e, err := ParseEntry(line)
		li, lerr := parseLine(bytes.TrimSuffix(line, []byte("\n")))
		if err != nil {
			return
		}
		if lerr != nil || li.seq != e.Seq || string(li.hash) != e.Hash {
			t.Fatalf("ParseEntry accepted what parseLine refuses (%v) or disagrees: %+v", lerr, e)
		}
		std, _ := newHasher(suite.Standard).entryHash(bytes.TrimSuffix(line, []byte("\n")), li)
		sm, _ := newHasher(suite.SM).entryHash(bytes.TrimSuffix(line, []byte("\n")), li)
		if string(std) != e.Hash && string(sm) != e.Hash {
			t.Fatal("ParseEntry accepted a line whose hash does not match")
		}
	})
}

func FuzzOpenCheckpoint(f *testing.F) {
	key, _ := testKey(f)
	s, err := suite.NoteSigner("atrest.journal/h", key)
	if err != nil {
		f.Fatal(err)
	}
	signed, err := note.Sign(&note.Note{Text: checkpointBody(Checkpoint{Origin: "atrest.journal/h", Size: 3})}, s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(signed)
	f.Add([]byte("atrest.journal/h\n10\nAAAA\n\n— atrest.journal/h AAAA\n"))
	f.Add([]byte("o\n-1\n\n"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		cp, err := openCheckpoint(msg, newKeyVerifiers(pub(key)))
		if err == nil && !bytes.HasPrefix(msg, []byte(checkpointBody(cp))) {
			t.Fatalf("accepted note does not start with its own body: %q", msg)
		}
		parseCheckpointBody(string(msg))
	})
}
