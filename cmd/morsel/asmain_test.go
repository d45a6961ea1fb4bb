package main

import (
	"os"
	"testing"
)

// asMainEnv, set to 1, makes the test binary the morsel command itself: tests
// that need morsel as processes of their own (TestScaleOut) run this
// executable with it, as built for the test (with -race under `make test`),
// instead of building the binary. TestMain sets it for every process the
// tests start, so that a command that starts `morsel serve` as os.Executable()
// (bench soak) starts morsel.
const asMainEnv = "MORSEL_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main()
		return
	}
	if err := os.Setenv(asMainEnv, "1"); err != nil {
		panic(err)
	}
	os.Exit(m.Run())
}
