module github.com/credplane/credplane/sdk/go

go 1.22

require golang.org/x/crypto v0.31.0
