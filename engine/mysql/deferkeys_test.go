package mysql

import (
	"slices"
	"testing"
)

func TestParseCreateTable(t *testing.T) {
	const keyed = "CREATE TABLE `keys1` (\n" +
		"  `id` int(11) NOT NULL,\n" +
		"  `a` int(11) DEFAULT NULL,\n" +
		"  `c` text DEFAULT NULL COMMENT 'KEY, UNIQUE (x)',\n" +
		"  PRIMARY KEY (`id`),\n" +
		"  UNIQUE KEY `ua` (`a`),\n" +
		"  KEY `cp` (`c`(10)),\n" +
		"  KEY `dc` (`a`) COMMENT 'hello, world (x)',\n" +
		"  KEY `we``ird, key` (`a` DESC,`id`) USING BTREE,\n" +
		"  CONSTRAINT `chk` CHECK (`a` > 0)\n" +
		") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"
	cases := []struct {
		name      string
		in        string
		plain, fk bool
		keys      []string
		stmt      string // without the deferred keys; "" if none are
	}{
		{name: "keys", in: keyed, plain: true,
			keys: []string{"UNIQUE KEY `ua` (`a`)", "KEY `cp` (`c`(10))", "KEY `dc` (`a`) COMMENT 'hello, world (x)'",
				"KEY `we``ird, key` (`a` DESC,`id`) USING BTREE"},
			stmt: "CREATE TABLE `keys1` (\n" +
				"  `id` int(11) NOT NULL,\n" +
				"  `a` int(11) DEFAULT NULL,\n" +
				"  `c` text DEFAULT NULL COMMENT 'KEY, UNIQUE (x)',\n" +
				"  PRIMARY KEY (`id`),\n" +
				"  CONSTRAINT `chk` CHECK (`a` > 0)\n" +
				") ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci"},
		{name: "fulltext stays", in: "CREATE TABLE `ft` (\n  `id` int NOT NULL,\n  `t` text,\n  `k` int,\n  PRIMARY KEY (`id`),\n  KEY `k` (`k`),\n  FULLTEXT KEY `ftt` (`t`)\n) ENGINE=InnoDB",
			plain: true, keys: []string{"KEY `k` (`k`)"},
			stmt: "CREATE TABLE `ft` (\n  `id` int NOT NULL,\n  `t` text,\n  `k` int,\n  PRIMARY KEY (`id`),\n  FULLTEXT KEY `ftt` (`t`)\n) ENGINE=InnoDB"},
		{name: "partitioned", in: "CREATE TABLE `p` (\n  `id` int NOT NULL,\n  `k` int,\n  PRIMARY KEY (`id`),\n  KEY `k` (`k`)\n) ENGINE=InnoDB\n/*!50100 PARTITION BY HASH (`id`)\nPARTITIONS 2 */",
			plain: true, keys: []string{"KEY `k` (`k`)"},
			stmt: "CREATE TABLE `p` (\n  `id` int NOT NULL,\n  `k` int,\n  PRIMARY KEY (`id`)\n) ENGINE=InnoDB\n/*!50100 PARTITION BY HASH (`id`)\nPARTITIONS 2 */"},
		{name: "qualified, no primary key", in: "CREATE TABLE IF NOT EXISTS `d`.`t` (`a` int NOT NULL, `b` int, UNIQUE KEY `a` (`a`), KEY `b` (`b`) /*!80000 INVISIBLE */) ENGINE=InnoDB",
			plain: true, keys: []string{"UNIQUE KEY `a` (`a`)", "KEY `b` (`b`) /*!80000 INVISIBLE */"},
			stmt: "CREATE TABLE IF NOT EXISTS `d`.`t` (`a` int NOT NULL, `b` int) ENGINE=InnoDB"},
		{name: "versioned", in: "CREATE TABLE `v` (\n  `id` int NOT NULL,\n  `k` int,\n  PRIMARY KEY (`id`),\n  KEY `k` (`k`)\n) ENGINE=InnoDB WITH SYSTEM VERSIONING", plain: true},
		{name: "versioned column", in: "CREATE TABLE `v` (`id` int NOT NULL, `k` int WITH SYSTEM VERSIONING, PRIMARY KEY (`id`), KEY `k` (`k`)) ENGINE=InnoDB", plain: true},
		{name: "spatial", in: "CREATE TABLE `s` (`id` int NOT NULL, `g` geometry NOT NULL, PRIMARY KEY (`id`), KEY `i` (`id`), SPATIAL KEY `g` (`g`)) ENGINE=InnoDB", plain: true},
		{name: "long unique", in: "CREATE TABLE `h` (`id` int NOT NULL, `c` text, PRIMARY KEY (`id`), UNIQUE KEY `uc` (`c`) USING HASH, KEY `i` (`id`)) ENGINE=InnoDB", plain: true},
		{name: "key in a column", in: "CREATE TABLE t (id INT PRIMARY KEY, a INT, KEY k (a)) ENGINE=InnoDB", plain: true},
		{name: "MyISAM", in: "CREATE TABLE `m` (`id` int NOT NULL, `k` int, PRIMARY KEY (`id`), KEY `k` (`k`)) ENGINE=MyISAM", plain: true},
		{name: "no engine", in: "CREATE TABLE `m` (`id` int NOT NULL, `k` int, PRIMARY KEY (`id`), KEY `k` (`k`))", plain: true},
		{name: "foreign key", in: "CREATE TABLE `ch` (\n  `id` int NOT NULL,\n  `pk` int,\n  PRIMARY KEY (`id`),\n  KEY `fk` (`pk`),\n  CONSTRAINT `fk` FOREIGN KEY (`pk`) REFERENCES `par` (`k`)\n) ENGINE=InnoDB",
			plain: true, fk: true},
		{name: "column references", in: "CREATE TABLE ch (id INT, pk INT REFERENCES par (k), KEY k (pk)) ENGINE=InnoDB", plain: true, fk: true},
		{name: "temporary", in: "CREATE TEMPORARY TABLE `t` (`id` int NOT NULL, `k` int, PRIMARY KEY (`id`), KEY `k` (`k`)) ENGINE=InnoDB"},
		{name: "like", in: "CREATE TABLE `t` LIKE `u`"},
		{name: "like in parentheses", in: "CREATE TABLE `t` (LIKE `u`)"},
		{name: "select", in: "CREATE TABLE `t` (`id` int NOT NULL, `k` int, PRIMARY KEY (`id`), KEY `k` (`k`)) ENGINE=InnoDB SELECT id, k FROM u"},
		{name: "as select", in: "CREATE TABLE `t` AS (SELECT 1 AS x)"},
		{name: "cut inside a comment", in: "CREATE TABLE `t` (`id` int NOT NULL, `k` int /*!80000 , KEY `k` (`k`) */, PRIMARY KEY (`id`)) ENGINE=InnoDB", plain: true},
	}
	for _, c := range cases {
		got := parseCreateTable([]byte(c.in))
		if got.plain != c.plain || got.foreignKey != c.fk || !slices.Equal(got.keys, c.keys) || string(got.stmt) != c.stmt {
			t.Errorf("%s: got plain %v fk %v keys %q stmt\n%s\nwant %v %v %q\n%s", c.name, got.plain, got.foreignKey, got.keys, got.stmt, c.plain, c.fk, c.keys, c.stmt)
		}
	}
}

func TestAlterAddsKeys(t *testing.T) {
	d := &deferredKeys{table: &loadedTable{db: "d`b", name: "t"}, keys: []string{"KEY `k` (`k`) -- a comment", "UNIQUE KEY `u` (`u`)"}}
	want := "ALTER TABLE `d``b`.`t`\n  ADD KEY `k` (`k`) -- a comment\n, ADD UNIQUE KEY `u` (`u`)"
	if got := d.alter(); got != want {
		t.Errorf("alter:\n%s\nwant\n%s", got, want)
	}
}

func TestStatementsAroundDeferredKeys(t *testing.T) {
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"/*!40000 ALTER TABLE `t` DISABLE KEYS */", true},
		{"ALTER TABLE `d`.`t` ENABLE KEYS", true},
		{"ALTER TABLE `t` ADD KEY `k` (`k`)", false},
		{"ALTER TABLE `t` DISABLE KEYS, ADD KEY `k` (`k`)", false},
	} {
		if got := togglesKeys([]byte(c.in)); got != c.want {
			t.Errorf("togglesKeys(%q) = %v", c.in, got)
		}
	}
	for _, c := range []struct {
		in   string
		want bool
	}{
		{"INSERT INTO `t` VALUES (1)", false},
		{"INSERT IGNORE INTO `t` VALUES (1)", true},
		{"insert low_priority ignore into t values (1)", true},
		{"REPLACE INTO `t` VALUES (1)", true},
		{"INSERT INTO `ignore` VALUES (1)", false},
	} {
		if got := classify([]byte(c.in)).onDuplicates; got != c.want {
			t.Errorf("classify(%q).onDuplicates = %v", c.in, got)
		}
	}
}
