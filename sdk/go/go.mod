module github.com/credplane/credplane/sdk/go

go 1.22
