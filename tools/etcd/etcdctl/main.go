// Command etcdctl is etcd's client, built from the etcd Go modules at the version in ../go.mod.
package main

import "go.etcd.io/etcd/etcdctl/v3/ctlv3"

func main() { ctlv3.MustStart() }
