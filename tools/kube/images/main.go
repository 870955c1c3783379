// Command images writes container images built from local files into one docker-save tarball
// (what `ctr -n k8s.io images import` and `docker load` read), so a cluster's nodes pull nothing.
//
// Usage: images SPEC.json OUT.tar
//
// SPEC.json:
//
//	{"root": "/path/to/a/debian/rootfs",
//	 "images": [{"refs": ["registry.k8s.io/kube-apiserver:v1.34.4"],
//	             "entrypoint": ["/usr/local/bin/kube-apiserver"],
//	             "env": ["PATH=/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
//	             "files": {"/usr/local/bin/kube-apiserver": "tools/kube/bin/kube-apiserver"},
//	             "fromRoot": ["/usr/sbin/xtables-nft-multi"],
//	             "links": {"/usr/sbin/iptables": "xtables-nft-multi"},
//	             "dirs": ["/tmp"]}]}
//
// files are copied from this machine; fromRoot paths are copied from root with every symlink on
// the way and, for ELF files, their program interpreter and the shared libraries they need
// (DT_NEEDED, transitively), so a Debian binary runs in the image as it does in Debian. Each image
// is one layer; every entry is owned by root with time 0, so the same inputs give the same digest.
package main

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

type spec struct {
	Root   string  `json:"root"`
	Images []image `json:"images"`
}

type image struct {
	Refs       []string          `json:"refs"`
	Entrypoint []string          `json:"entrypoint"`
	Cmd        []string          `json:"cmd"`
	Env        []string          `json:"env"`
	User       string            `json:"user"`
	Files      map[string]string `json:"files"`
	FromRoot   []string          `json:"fromRoot"`
	Links      map[string]string `json:"links"`
	Dirs       []string          `json:"dirs"`
}

// entry is one file, directory or symlink of a layer.
type entry struct {
	mode   int64
	link   string // symlink target
	source string // a regular file's content, read at write time
	dir    bool
}

type layer struct {
	root    string
	entries map[string]entry
}

var libDirs = []string{"/lib/x86_64-linux-gnu", "/usr/lib/x86_64-linux-gnu", "/lib64", "/usr/lib64", "/lib", "/usr/lib"}

func (l *layer) parents(p string) {
	for d := path.Dir(p); d != "/" && d != "."; d = path.Dir(d) {
		if _, ok := l.entries[d]; !ok {
			l.entries[d] = entry{mode: 0o755, dir: true}
		}
	}
}

func (l *layer) file(dest, source string) error {
	st, err := os.Stat(source)
	if err != nil {
		return err
	}
	if !st.Mode().IsRegular() {
		return fmt.Errorf("%s is not a regular file", source)
	}
	l.parents(dest)
	l.entries[dest] = entry{mode: int64(st.Mode().Perm()), source: source}
	return nil
}

// fromRoot adds p (absolute, inside l.root) with its symlink chain and ELF dependencies.
func (l *layer) fromRoot(p string) error {
	if _, done := l.entries[p]; done {
		return nil
	}
	// Each directory on the way may itself be a symlink (/lib -> usr/lib on Debian 12).
	dir := path.Dir(p)
	if dir != "/" {
		if real, err := l.resolve(dir); err != nil {
			return err
		} else if real != dir {
			return l.fromRoot(path.Join(real, path.Base(p)))
		}
	}
	host := filepath.Join(l.root, p)
	st, err := os.Lstat(host)
	if err != nil {
		return err
	}
	if st.Mode()&os.ModeSymlink != 0 {
		target, err := os.Readlink(host)
		if err != nil {
			return err
		}
		l.parents(p)
		l.entries[p] = entry{mode: 0o777, link: target}
		if !path.IsAbs(target) {
			target = path.Join(path.Dir(p), target)
		}
		return l.fromRoot(path.Clean(target))
	}
	if err := l.file(p, host); err != nil {
		return err
	}
	f, err := elf.Open(host)
	if err != nil {
		return nil // not an ELF file: nothing more to bring
	}
	defer f.Close()
	for _, prog := range f.Progs {
		if prog.Type == elf.PT_INTERP {
			b, err := io.ReadAll(prog.Open())
			if err != nil {
				return err
			}
			if err := l.fromRoot(strings.TrimRight(string(b), "\x00")); err != nil {
				return err
			}
		}
	}
	libs, err := f.ImportedLibraries()
	if err != nil {
		return err
	}
	for _, lib := range libs {
		found := false
		for _, d := range libDirs {
			if _, err := os.Lstat(filepath.Join(l.root, d, lib)); err == nil {
				if err := l.fromRoot(path.Join(d, lib)); err != nil {
					return err
				}
				found = true
				break
			}
		}
		if !found {
			return fmt.Errorf("%s needs %s, which is not in %s", p, lib, l.root)
		}
	}
	return nil
}

// resolve follows symlinks of directory p inside l.root, adding each link it passes.
func (l *layer) resolve(p string) (string, error) {
	if p == "/" {
		return p, nil
	}
	parent, err := l.resolve(path.Dir(p))
	if err != nil {
		return "", err
	}
	p = path.Join(parent, path.Base(p))
	st, err := os.Lstat(filepath.Join(l.root, p))
	if err != nil {
		return "", err
	}
	if st.Mode()&os.ModeSymlink == 0 {
		return p, nil
	}
	target, err := os.Readlink(filepath.Join(l.root, p))
	if err != nil {
		return "", err
	}
	l.parents(p)
	l.entries[p] = entry{mode: 0o777, link: target}
	if !path.IsAbs(target) {
		target = path.Join(path.Dir(p), target)
	}
	return l.resolve(path.Clean(target))
}

func (l *layer) tar() ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(l.entries))
	for n := range l.entries {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		e := l.entries[n]
		h := &tar.Header{Name: strings.TrimPrefix(n, "/"), Mode: e.mode, ModTime: time.Unix(0, 0), Format: tar.FormatPAX}
		switch {
		case e.dir:
			h.Typeflag, h.Name = tar.TypeDir, h.Name+"/"
		case e.link != "":
			h.Typeflag, h.Linkname = tar.TypeSymlink, e.link
		default:
			b, err := os.ReadFile(e.source)
			if err != nil {
				return nil, err
			}
			h.Typeflag, h.Size = tar.TypeReg, int64(len(b))
			if err := tw.WriteHeader(h); err != nil {
				return nil, err
			}
			if _, err := tw.Write(b); err != nil {
				return nil, err
			}
			continue
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func build(root string, im image) (v1.Image, error) {
	l := &layer{root: root, entries: map[string]entry{}}
	for _, d := range im.Dirs {
		l.parents(d)
		l.entries[d] = entry{mode: 0o1777, dir: true}
	}
	for dest, src := range im.Files {
		if err := l.file(dest, src); err != nil {
			return nil, err
		}
	}
	for _, p := range im.FromRoot {
		if root == "" {
			return nil, fmt.Errorf("fromRoot %s needs a root", p)
		}
		if err := l.fromRoot(p); err != nil {
			return nil, err
		}
	}
	for dest, target := range im.Links {
		l.parents(dest)
		l.entries[dest] = entry{mode: 0o777, link: target}
	}
	b, err := l.tar()
	if err != nil {
		return nil, err
	}
	layer, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(b)), nil },
		tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		return nil, err
	}
	img, err := mutate.AppendLayers(empty.Image, layer)
	if err != nil {
		return nil, err
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS = "amd64", "linux"
	cf.Created = v1.Time{Time: time.Unix(0, 0).UTC()}
	cf.Config.Entrypoint, cf.Config.Cmd, cf.Config.Env, cf.Config.User = im.Entrypoint, im.Cmd, im.Env, im.User
	return mutate.ConfigFile(img, cf)
}

func run(specPath, out string) error {
	raw, err := os.ReadFile(specPath)
	if err != nil {
		return err
	}
	var s spec
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&s); err != nil {
		return fmt.Errorf("%s: %w", specPath, err)
	}
	refs := map[name.Reference]v1.Image{}
	for _, im := range s.Images {
		img, err := build(s.Root, im)
		if err != nil {
			return fmt.Errorf("image %v: %w", im.Refs, err)
		}
		for _, r := range im.Refs {
			tag, err := name.NewTag(r, name.StrictValidation)
			if err != nil {
				return fmt.Errorf("image %v: %w", im.Refs, err)
			}
			refs[tag] = img
		}
	}
	tmp := out + ".tmp"
	if err := tarball.MultiRefWriteToFile(tmp, refs); err != nil {
		return err
	}
	return os.Rename(tmp, out)
}

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: images SPEC.json OUT.tar")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, "images:", err)
		os.Exit(1)
	}
}
