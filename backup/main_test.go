package backup_test

import (
	"testing"

	"github.com/atrest/atrest/internal/testenv"
)

func TestMain(m *testing.M) { testenv.Main(m) }
