package main

import (
	"os"
	"testing"
)

// asMainEnv, set to 1, makes the test binary the morsel command itself: tests
// that need morsel as processes of their own (TestScaleOut) run this
// executable with it, as built for the test (with -race under `make test`),
// instead of building the binary.
const asMainEnv = "MORSEL_TEST_AS_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(asMainEnv) == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}
