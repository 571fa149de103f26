module github.com/credplane/credplane/examples/go

go 1.22

require github.com/credplane/credplane/sdk/go v0.0.0

replace github.com/credplane/credplane/sdk/go => ../../sdk/go
