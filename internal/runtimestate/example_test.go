package runtimestate_test

import (
	"fmt"

	"github.com/hostscope/hostscope/hostroot/hostroottest"
	"github.com/hostscope/hostscope/internal/runtimestate"
)

// Name a docker container seen in a cgroup path, from its config.v2.json
// alone.
func ExampleLookup() {
	const id = "62e0b2f51bd8ded5d3547fc190f0860cb4b48d1b302343e5ce12f31a0986f3e7"
	h := hostroottest.New().File("/var/lib/docker/containers/"+id+"/config.v2.json",
		`{"ID":"`+id+`","Name":"/web","Image":"sha256:35e4","State":{"Running":true,"Pid":11533},
		  "Config":{"Image":"nginx:1.25","Labels":{"app":"shop"}}}`)
	r, err := h.Root()
	if err != nil {
		panic(err)
	}
	info, err := runtimestate.Lookup(r, "docker", id, nil)
	if err != nil {
		panic(err)
	}
	fmt.Println(info.Name, info.Image, info.State, info.PID, info.Labels["app"])

	// A container no state file knows: names stay empty, the scan goes on.
	_, err = runtimestate.Lookup(r, "docker", "0123", nil)
	fmt.Println(err)
	// Output:
	// web nginx:1.25 running 11533 shop
	// runtimestate: no state file for the container
}
