// Command gen writes branchy.bolt and branchy.dump.json, a bbolt fixture for tests/test_bolt.py.
//
// The real Podman file has only leaf pages, so this file, written by bbolt itself, covers what
// it lacks: 1 KiB pages (meta page 1 at offset 1024), a three-level tree of branch pages,
// overflow pages, inline and empty buckets, nested buckets three deep, a non-UTF-8 value and
// bucket sequences. The dump is made by bbolt's own cursor walk, not by fsstate.
//
// Run from this directory with bbolt from Debian (golang-github-coreos-bbolt-dev, 1.3.6):
//
//	GO111MODULE=off GOPATH=/usr/share/gocode /usr/lib/go-1.19/bin/go run main.go ..
package main

import (
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"unicode/utf8"

	bolt "go.etcd.io/bbolt"
)

func must(err error) {
	if err != nil {
		panic(err)
	}
}

func fill(tx *bolt.Tx) error {
	many, err := tx.CreateBucket([]byte("many"))
	if err != nil {
		return err
	}
	for i := 0; i < 600; i++ {
		k := fmt.Sprintf("key-%04d", i)
		if err := many.Put([]byte(k), []byte(fmt.Sprintf("value %d", i*i))); err != nil {
			return err
		}
	}
	big, err := tx.CreateBucket([]byte("big"))
	if err != nil {
		return err
	}
	must(big.Put([]byte("config"), []byte(strings.Repeat(`{"x":"0123456789"}`, 300))))
	must(big.Put([]byte("binary"), []byte{0x00, 0xff, 0xfe, 0x80}))
	a, _ := big.CreateBucket([]byte("a"))
	b, _ := a.CreateBucket([]byte("b"))
	c, _ := b.CreateBucket([]byte("c"))
	must(c.Put([]byte("deep"), []byte("yes")))
	_, _ = c.NextSequence()
	_, err = tx.CreateBucket([]byte("empty"))
	return err
}

func walk(b *bolt.Bucket) map[string]interface{} {
	out := map[string]interface{}{}
	c := b.Cursor()
	for k, v := c.First(); k != nil; k, v = c.Next() {
		switch {
		case v == nil:
			out[string(k)] = map[string]interface{}{"__bucket__": walk(b.Bucket(k))}
		case utf8.Valid(v):
			out[string(k)] = string(v)
		default:
			out[string(k)] = map[string]string{"__hex__": hex.EncodeToString(v)}
		}
	}
	return out
}

func main() {
	dir := os.Args[1]
	path := filepath.Join(dir, "branchy.bolt")
	_ = os.Remove(path)
	db, err := bolt.Open(path, 0o644, &bolt.Options{PageSize: 1024})
	must(err)
	must(db.Update(fill))
	// A second transaction, so the two meta pages differ and page 1 is the current one.
	must(db.Update(func(tx *bolt.Tx) error { return tx.Bucket([]byte("many")).Put([]byte("key-0000"), []byte("changed")) }))
	must(db.View(func(tx *bolt.Tx) error {
		tree := map[string]interface{}{}
		must(tx.ForEach(func(name []byte, b *bolt.Bucket) error {
			tree[string(name)] = map[string]interface{}{"__bucket__": walk(b)}
			return nil
		}))
		doc := map[string]interface{}{"pageSize": db.Info().PageSize, "txid": tx.ID(), "tree": tree}
		data, err := json.MarshalIndent(doc, "", " ")
		must(err)
		return os.WriteFile(filepath.Join(dir, "branchy.dump.json"), append(data, '\n'), 0o644)
	}))
	must(db.Close())
}
