package kernel

// Feature is one thing the running kernel does or does not support.
type Feature struct {
	Name   string `json:"name"`
	OK     bool   `json:"supported"`
	Detail string `json:"detail,omitempty"`
}
