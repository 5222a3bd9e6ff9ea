//go:build !race

package bpfarena_test

// raceDetector reports a -race build.
const raceDetector = false
