package bpfarena

import (
	"github.com/bpfarena/bpfarena/internal/engine"
	"github.com/bpfarena/bpfarena/internal/kernel"
	"github.com/bpfarena/bpfarena/internal/vm"
	"github.com/bpfarena/bpfarena/object"
)

func loadVM(spec *object.Spec, opts engine.Options) (engine.Collection, error) {
	return vm.Load(spec, opts)
}

func loadKernel(spec *object.Spec, opts engine.Options) (engine.Collection, error) {
	return kernel.Load(spec, opts)
}
