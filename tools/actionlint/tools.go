//go:build tools

// Package tools records the actionlint command as a dependency of this module.
package tools

import _ "github.com/rhysd/actionlint/cmd/actionlint"
