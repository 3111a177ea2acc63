module github.com/continuum-ehr/continuum

go 1.26.8

require (
	github.com/cockroachdb/apd/v3 v3.2.3 // indirect
	github.com/go-json-experiment/json v1.27.2 // indirect
)
