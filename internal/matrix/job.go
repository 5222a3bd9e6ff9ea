package matrix

// Job is what runs inside the guest.
type Job struct {
	// Argv is the program and its arguments, with guest paths.
	Argv []string
	// Dir is the guest working directory.
	Dir string
	// Env is the environment, as KEY=VALUE.
	Env []string
}

// Guest paths. The job's files live under /work; the init and the job
// description under /matrix.
const (
	guestInit    = "/init"
	guestJob     = "/matrix/job.json"
	guestWork    = "/work"
	statusPrefix = "bpfarena-matrix: exit status "
	// catJob as a job's program makes the init itself copy the files
	// named by the arguments to the output.
	catJob = "@cat"
)

// EnvKernel is set in the guest to the name of the matrix kernel it runs,
// so tests know they are the oracle and must not skip the kernel side.
const EnvKernel = "BPFARENA_MATRIX_KERNEL"
