module github.com/credplane/credplane/examples/go

go 1.22

require github.com/credplane/credplane/sdk/go v0.0.0

require golang.org/x/crypto v0.31.0 // indirect

replace github.com/credplane/credplane/sdk/go => ../../sdk/go
