package store

import "time"

// JobSpec is what EnqueueJob needs.
type JobSpec struct {
	Kind    string // what runs it, e.g. "export" or "reindex"
	Org     string // the organization on whose behalf it runs; "" for the deployment
	Payload []byte // the job's input, opaque to the store
	// MaxAttempts bounds the attempts; 0 means DefaultMaxAttempts.
	MaxAttempts int
	// RunAfter delays the first attempt; zero means now.
	RunAfter time.Time
}

// DefaultMaxAttempts is the attempts of a job whose spec does not say.
const DefaultMaxAttempts = 5

// JobState is where a job is in its life.
type JobState string

// Job states. Queued and running jobs are live; succeeded and failed are final.
const (
	JobQueued    JobState = "queued"
	JobRunning   JobState = "running"
	JobSucceeded JobState = "succeeded"
	JobFailed    JobState = "failed"
)

// Progress is what a running job reports, for status pages and $export's
// X-Progress.
type Progress struct {
	Done  int64
	Total int64 // 0 when unknown
	Note  string
}

// Job is a job as stored.
type Job struct {
	ID          string
	Kind        string
	Org         string
	Payload     []byte
	State       JobState
	Attempts    int // attempts started so far
	MaxAttempts int
	RunAfter    time.Time // when it may next run
	LeaseOwner  string    // the worker holding it while running
	LeaseUntil  time.Time
	Progress    Progress
	Result      []byte
	LastError   string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}
