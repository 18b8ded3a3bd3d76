// Package migrations holds Marquee's versioned schema, embedded in the binary
// and applied by goose. PostgreSQL and the embedded SQLite database each have a
// directory with the same versions: SQLite gets the same tables and
// constraints, PostgreSQL adds what only it has (row-level security, roles,
// later partitions). A test keeps the two version lists equal.
package migrations

import (
	"embed"
	"io/fs"
)

//go:embed postgres/*.sql sqlite/*.sql
var files embed.FS

// Postgres is the migration set for PostgreSQL.
func Postgres() fs.FS { return sub("postgres") }

// SQLite is the migration set for the embedded SQLite database.
func SQLite() fs.FS { return sub("sqlite") }

func sub(dir string) fs.FS {
	f, err := fs.Sub(files, dir)
	if err != nil {
		// Sub fails only for an invalid path literal, a programming error.
		panic(err)
	}
	return f
}
