package runtime

import (
	"fmt"
	"sort"
	"strings"
)

// Plans: what a preview will do (or what an up, refresh or destroy did), and how it is
// printed — the same text as the Python SDK's plan.py.
//
// Symbols: "+" create, "~" update, "-" delete, "+-" replace; per property "+" added, "~"
// changed, "-" removed. Secrets print as "[secret]", unknown values as "(unknown)".

// Step operations.
const (
	OpCreate  = "create"
	OpUpdate  = "update"
	OpReplace = "replace"
	OpDelete  = "delete"
	OpSame    = "same"
)

var opSymbol = map[string]string{OpCreate: "+", OpUpdate: "~", OpReplace: "+-", OpDelete: "-", OpSame: " "}
var kindSymbol = map[string]string{"add": "+", "update": "~", "delete": "-"}

// PropertyChange is one changed property of a step.
type PropertyChange struct {
	Name string
	// Kind is "add", "update" or "delete".
	Kind string
	Old  any
	New  any
	// Replace: the change forces a replacement.
	Replace bool
}

// Render is the printed line of the change (without indentation).
func (c PropertyChange) Render() string {
	sym, ok := kindSymbol[c.Kind]
	if !ok {
		sym = "~"
	}
	var text string
	switch c.Kind {
	case "add":
		text = fmt.Sprintf("%s %s: %s", sym, c.Name, RenderValue(c.New))
	case "delete":
		text = fmt.Sprintf("%s %s: %s", sym, c.Name, RenderValue(c.Old))
	default:
		text = fmt.Sprintf("%s %s: %s => %s", sym, c.Name, RenderValue(c.Old), RenderValue(c.New))
	}
	if c.Replace {
		text += " (forces replacement)"
	}
	return text
}

// Step is what happens (or happened) to one resource.
type Step struct {
	Op                  string
	Type                string
	Name                string
	ID                  string
	Changes             []PropertyChange
	DeleteBeforeReplace bool
	// Outputs are the planned outputs (a preview: may hold unknowns) or, after an apply, the
	// actual outputs (wire form).
	Outputs map[string]any
	Note    string
}

// Changed is the sorted names of the changed properties.
func (s *Step) Changed() []string {
	out := make([]string, 0, len(s.Changes))
	for _, c := range s.Changes {
		out = append(out, c.Name)
	}
	sort.Strings(out)
	return out
}

// Render is the printed step: its head line and one line per property change.
func (s *Step) Render() string {
	sym, ok := opSymbol[s.Op]
	if !ok {
		sym = "?"
	}
	head := fmt.Sprintf("%2s %s %s", sym, s.Type, s.Name)
	if s.ID != "" {
		head += fmt.Sprintf(" (id %s)", s.ID)
	}
	if s.Op == OpReplace && s.DeleteBeforeReplace {
		head += " [delete before replace]"
	}
	if s.Note != "" {
		head += fmt.Sprintf(" [%s]", s.Note)
	}
	lines := []string{head}
	if s.Op != OpDelete {
		for _, c := range s.Changes {
			lines = append(lines, "       "+c.Render())
		}
	}
	return strings.Join(lines, "\n")
}

// Plan is the list of steps of one operation.
type Plan struct {
	Stack string
	// Action is "preview", "up", "refresh" or "destroy".
	Action   string
	Steps    []*Step
	Warnings []string
}

// Step is the step of the resource name (not counting the deletion of a replaced
// predecessor), or nil.
func (p *Plan) Step(name string) *Step {
	var main, found *Step
	for _, s := range p.Steps {
		if s.Name != name {
			continue
		}
		found = s
		if s.Note != "replaced" {
			main = s
		}
	}
	if main != nil {
		return main
	}
	return found
}

// Ops maps resource name to op (deletions of replaced predecessors left out).
func (p *Plan) Ops() map[string]string {
	out := map[string]string{}
	for _, s := range p.Steps {
		if s.Note != "replaced" {
			out[s.Name] = s.Op
		}
	}
	return out
}

// Counts is the number of steps per op (deletions of replaced predecessors left out).
func (p *Plan) Counts() map[string]int {
	out := map[string]int{OpCreate: 0, OpUpdate: 0, OpReplace: 0, OpDelete: 0, OpSame: 0}
	for _, s := range p.Steps {
		if s.Note != "replaced" {
			out[s.Op]++
		}
	}
	return out
}

// HasChanges reports whether any step is not "same".
func (p *Plan) HasChanges() bool {
	for _, s := range p.Steps {
		if s.Op != OpSame {
			return true
		}
	}
	return false
}

// Render is the printed plan.
func (p *Plan) Render() string {
	titles := map[string]string{"preview": "Previewing", "up": "Applied", "refresh": "Refreshed", "destroy": "Destroyed"}
	title, ok := titles[p.Action]
	if !ok {
		title = p.Action
	}
	lines := []string{fmt.Sprintf("%s stack %s:", title, p.Stack)}
	for _, w := range p.Warnings {
		lines = append(lines, "  warning: "+w)
	}
	for _, s := range p.Steps {
		if s.Op == OpSame {
			continue
		}
		lines = append(lines, s.Render())
	}
	c := p.Counts()
	words := map[string]string{OpCreate: "to create", OpUpdate: "to update", OpReplace: "to replace", OpDelete: "to delete"}
	if p.Action != "preview" {
		words = map[string]string{OpCreate: "created", OpUpdate: "updated", OpReplace: "replaced", OpDelete: "deleted"}
		if p.Action == "refresh" {
			words = map[string]string{OpCreate: "created", OpUpdate: "drifted", OpReplace: "replaced", OpDelete: "gone"}
		}
	}
	var parts []string
	for _, op := range []string{OpCreate, OpUpdate, OpReplace, OpDelete} {
		if c[op] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", c[op], words[op]))
		}
	}
	parts = append(parts, fmt.Sprintf("%d unchanged", c[OpSame]))
	lines = append(lines, "Resources: "+strings.Join(parts, ", "))
	return strings.Join(lines, "\n")
}

// String is Render.
func (p *Plan) String() string { return p.Render() }
