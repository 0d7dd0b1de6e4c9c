package backup_test

import (
	"context"
	"strings"
	"testing"

	"github.com/atrest/atrest/backup"
	"github.com/atrest/atrest/backup/storetest"
)

func TestJournalAnchorNeverReplaces(t *testing.T) {
	ctx := context.Background()
	a := backup.JournalAnchor{Store: storetest.NewMem(), Prefix: "journal/host-a/"}
	if err := a.Put(ctx, "checkpoints/0000000000000001.note", []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := a.Put(ctx, "checkpoints/0000000000000001.note", []byte("one")); err != nil {
		t.Fatalf("same bytes again: %v", err)
	}
	if err := a.Put(ctx, "checkpoints/0000000000000001.note", []byte("forged")); err == nil || !strings.Contains(err.Error(), "other content") {
		t.Fatalf("replacing with other content: %v", err)
	}
	names, err := a.List(ctx, "checkpoints/")
	if err != nil || len(names) != 1 || names[0] != "checkpoints/0000000000000001.note" {
		t.Fatalf("List = %v, %v", names, err)
	}
	if got, err := a.Get(ctx, names[0]); err != nil || string(got) != "one" {
		t.Fatalf("Get = %q, %v", got, err)
	}
}
