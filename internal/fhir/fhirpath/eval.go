package fhirpath

import (
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/continuum-ehr/continuum/internal/fhir"
	"github.com/continuum-ehr/continuum/internal/fhir/spec"
)

// Expression is a compiled FHIRPath expression. It is immutable and safe
// for concurrent use.
type Expression struct {
	src  string
	root *node
	// pruned caches, per focus type, the tree without the union branches
	// that cannot select anything from such a focus (prune.go).
	pruned sync.Map
	evals  sync.Pool // *evaluator
}

// Compile parses expr. Errors are *SyntaxError with the position.
func Compile(expr string) (*Expression, error) {
	root, err := parse(expr)
	if err != nil {
		return nil, err
	}
	prepare(root)
	return &Expression{src: expr, root: root}, nil
}

// prepare precomputes literal collections so evaluating a literal does not
// allocate.
func prepare(n *node) {
	if n == nil {
		return
	}
	if n.kind == nLiteral {
		n.lit = Collection{n.value}[:1:1]
	}
	literalRegex(n)
	prepare(n.left)
	prepare(n.right)
	for _, a := range n.args {
		prepare(a)
	}
}

// MustCompile is Compile for expressions known to be valid (tests, tables).
func MustCompile(expr string) *Expression {
	e, err := Compile(expr)
	if err != nil {
		panic(err)
	}
	return e
}

// String returns the source text.
func (e *Expression) String() string { return e.src }

// Cache holds compiled expressions by source text. It is safe for
// concurrent use; the zero value is not usable, use NewCache.
type Cache struct {
	mu  sync.RWMutex
	m   map[string]*Expression
	max int
}

// NewCache returns a cache holding up to max expressions (0: unbounded,
// which suits the fixed set of SearchParameter and invariant expressions).
func NewCache(max int) *Cache { return &Cache{m: map[string]*Expression{}, max: max} }

// Compile returns the compiled form of expr, compiling it on first use.
// Syntax errors are not cached.
func (c *Cache) Compile(expr string) (*Expression, error) {
	c.mu.RLock()
	e := c.m[expr]
	c.mu.RUnlock()
	if e != nil {
		return e, nil
	}
	e, err := Compile(expr)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if c.max > 0 && len(c.m) >= c.max {
		// Evict an arbitrary entry: simple and enough for a cache whose
		// working set is normally far below max.
		for k := range c.m {
			delete(c.m, k)
			break
		}
	}
	c.m[expr] = e
	c.mu.Unlock()
	return e, nil
}

// Env is the evaluation environment. An Env is read-only during evaluation
// and may be shared by concurrent evaluations.
type Env struct {
	// Spec types model values; nil evaluates untyped (types inferred from JSON).
	Spec *spec.Spec
	// Resource is %resource, RootResource %rootResource
	// (https://hl7.org/fhir/R4/fhirpath.html#variables). Nil: the focus.
	Resource, RootResource Item
	// Context is %context; nil: the focus collection.
	Context Collection
	// Vars are user variables, reachable as %name.
	Vars map[string]Collection
	// Resolver resolves a reference that is neither contained nor in the
	// enclosing Bundle (resolve()); nil: such references resolve to nothing.
	Resolver func(reference string) (*fhir.Value, error)
	// ConformsTo decides conformsTo(url) for profiles other than the base
	// StructureDefinitions, which the engine decides itself.
	ConformsTo func(it Item, url string) (bool, error)
	// Trace receives trace() output; nil discards it.
	Trace func(name string, c Collection)
	// MaxSteps bounds the work of one evaluation (nodes visited and items
	// iterated); 0 means DefaultMaxSteps.
	MaxSteps int
	// Timeout bounds the wall-clock time of one evaluation; 0: none.
	Timeout time.Duration
	// Now fixes now()/today()/timeOfDay(); zero: the clock, read once per
	// evaluation so that now() = now().
	Now time.Time
	// AsFilters makes "as" (operator and function) keep the items of a
	// collection that have the type, instead of raising the error FHIRPath
	// N1 requires for more than one item
	// (https://hl7.org/fhirpath/N1/#astype-type-specifier). R4's own
	// definitions rely on the filtering form — SearchParameters such as
	// "(Observation.value as Quantity) | …" over repeating elements and the
	// dom-3 invariant's "descendants().as(canonical)" — so the search
	// indexer and the validator set it; R5 rewrote those with ofType().
	AsFilters bool
}

// DefaultMaxSteps stops runaway expressions (repeat() over a huge tree,
// quadratic distinct()) long before they hurt, while no real invariant or
// search parameter comes near it.
const DefaultMaxSteps = 10_000_000

// EvalError is an evaluation error with the position of the expression
// part that failed.
type EvalError struct {
	Pos       int
	Line, Col int
	Msg       string
}

func (e *EvalError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("fhirpath: evaluation error at line %d, column %d: %s", e.Line, e.Col, e.Msg)
	}
	return "fhirpath: evaluation error: " + e.Msg
}

// ErrBudget is wrapped by the error of an evaluation that ran out of steps
// or time.
var ErrBudget = errors.New("fhirpath: evaluation budget exceeded")

type budgetError struct{ msg string }

func (b *budgetError) Error() string { return b.msg }
func (b *budgetError) Unwrap() error { return ErrBudget }

func errorf(format string, args ...any) error {
	return &EvalError{Pos: -1, Msg: fmt.Sprintf(format, args...)}
}

type evaluator struct {
	env       *Env
	spec      *spec.Spec
	src       string
	steps     int
	max       int
	deadline  time.Time
	nextClock int // steps at which to read the clock next
	now       time.Time
	focus     Collection
	root      frame
}

// frame holds the iteration variables of a lambda
// (https://hl7.org/fhirpath/N1/#functions: $this, $index, $total).
type frame struct {
	this     Collection
	index    int
	total    Collection
	hasIndex bool
	hasTotal bool
}

// Evaluate evaluates the expression with focus as the input collection
// (normally one resource node made by ResourceNode).
func (e *Expression) Evaluate(env *Env, focus Collection) (Collection, error) {
	if env == nil {
		env = &Env{}
	}
	// Evaluator state is recycled per expression: nothing keeps a reference
	// to it after Evaluate returns, and it is most of what one evaluation
	// would otherwise allocate.
	ev, _ := e.evals.Get().(*evaluator)
	if ev == nil {
		ev = new(evaluator)
	}
	defer func() {
		*ev = evaluator{}
		e.evals.Put(ev)
	}()
	*ev = evaluator{env: env, spec: env.Spec, src: e.src, max: env.MaxSteps, now: env.Now, focus: focus}
	ev.root.this = focus
	if ev.max <= 0 {
		ev.max = DefaultMaxSteps
	}
	if env.Timeout > 0 {
		ev.deadline = time.Now().Add(env.Timeout)
	}
	root := e.root
	if root.kind == nBinary && root.name == "|" && len(focus) == 1 && env.Spec != nil {
		if n, ok := focus[0].(*Node); ok && n.typ != "" && n.isResource() {
			root = e.prunedFor(n.typ, env.Spec.IsA)
		}
	}
	out, err := ev.eval(root, &ev.root)
	if err != nil {
		var ee *EvalError
		if errors.As(err, &ee) && ee.Pos >= 0 {
			se := syntaxErr(e.src, ee.Pos, "")
			ee.Line, ee.Col = se.Line, se.Col
		}
		return nil, err
	}
	return out, nil
}

// clock returns the evaluation's now, read once and only when needed.
func (ev *evaluator) clock() time.Time {
	if ev.now.IsZero() {
		ev.now = time.Now()
	}
	return ev.now
}

// chargePairs charges for comparing every item of one collection with every
// item of another (union, intersect, distinct, ~ …), which is quadratic.
func (ev *evaluator) chargePairs(a, b int) error {
	n := a + b
	return ev.step(n * n / 2)
}

// MaxString bounds the strings an expression may build (replace(),
// concatenation, join() …), so that repeated doubling cannot exhaust memory.
const MaxString = 1 << 20

// str returns s as a result, or an error when it is longer than MaxString.
func (ev *evaluator) str(s string) (Collection, error) {
	if len(s) > MaxString {
		return nil, &budgetError{fmt.Sprintf("fhirpath: string result of %d bytes exceeds the limit of %d", len(s), MaxString)}
	}
	if err := ev.step(len(s) / 64); err != nil {
		return nil, err
	}
	return Collection{String(s)}, nil
}

// step charges n units of work against the budget.
func (ev *evaluator) step(n int) error {
	ev.steps += n
	if ev.steps > ev.max {
		return &budgetError{fmt.Sprintf("fhirpath: expression exceeded %d evaluation steps", ev.max)}
	}
	if !ev.deadline.IsZero() && ev.steps >= ev.nextClock {
		// Reading the clock costs more than a step: do it every 1024 steps.
		ev.nextClock = ev.steps + 1024
		if time.Now().After(ev.deadline) {
			return &budgetError{fmt.Sprintf("fhirpath: expression exceeded its time budget of %v", ev.env.Timeout)}
		}
	}
	return nil
}

func (ev *evaluator) eval(n *node, f *frame) (Collection, error) {
	if err := ev.step(1); err != nil {
		return nil, err
	}
	out, err := ev.evalNode(n, f)
	if err != nil {
		var ee *EvalError
		if errors.As(err, &ee) && ee.Pos < 0 {
			ee.Pos = n.pos
		}
		return nil, err
	}
	return out, nil
}

func (ev *evaluator) evalNode(n *node, f *frame) (Collection, error) {
	switch n.kind {
	case nLiteral:
		return n.lit, nil
	case nEmpty:
		return nil, nil
	case nThis:
		return f.this, nil
	case nIndex:
		if !f.hasIndex {
			return nil, errorf("$index is only defined inside a function that iterates")
		}
		return Collection{Integer(f.index)}, nil
	case nTotal:
		if !f.hasTotal {
			return nil, errorf("$total is only defined inside aggregate()")
		}
		return f.total, nil
	case nExtConst:
		return ev.constant(n.name)
	case nIdent:
		return ev.navigate(f.this, n.name, true)
	case nChild:
		in, err := ev.eval(n.left, f)
		if err != nil {
			return nil, err
		}
		return ev.navigate(in, n.name, false)
	case nIndexer:
		in, err := ev.eval(n.left, f)
		if err != nil {
			return nil, err
		}
		idx, err := ev.eval(n.right, f)
		if err != nil {
			return nil, err
		}
		if len(idx) == 0 {
			return nil, nil
		}
		i, err := singletonInteger(idx)
		if err != nil {
			return nil, err
		}
		if i < 0 || int(i) >= len(in) {
			return nil, nil
		}
		return Collection{in[i]}, nil
	case nUnary:
		v, err := ev.eval(n.left, f)
		if err != nil {
			return nil, err
		}
		return unaryOp(n.name, v)
	case nBinary:
		return ev.binary(n, f)
	case nTypeOp:
		in, err := ev.eval(n.left, f)
		if err != nil {
			return nil, err
		}
		if n.name == "is" {
			return ev.isOp(in, n.typ)
		}
		return ev.asOp(in, n.typ)
	case nCall:
		in := f.this
		if n.left != nil {
			var err error
			if in, err = ev.eval(n.left, f); err != nil {
				return nil, err
			}
		}
		return n.fn.impl(ev, n, f, in)
	}
	return nil, errorf("internal: unknown node kind %d", n.kind)
}

// navigate selects the children called name of every item
// (https://hl7.org/fhirpath/N1/#path-selection). At the start of an
// expression a type name selects the focus itself when it is of that type
// (Patient.name on a Patient).
func (ev *evaluator) navigate(in Collection, name string, first bool) (Collection, error) {
	if first && len(in) == 1 && name != "" && name[0] >= 'A' && name[0] <= 'Z' {
		// The common "Patient.…" on a Patient: the focus itself, shared
		// rather than copied (collections are never modified in place).
		if v, ok := in[0].(*Node); ok && v.typ == name {
			return in, nil
		}
	}
	var out Collection
	for _, it := range in {
		switch v := it.(type) {
		case *Node:
			if first && name != "" && name[0] >= 'A' && name[0] <= 'Z' {
				// A type name, since element names start in lower case: the
				// focus itself or nothing (Practitioner.name on a Patient, as
				// in multi-base SearchParameter expressions). Resources derive
				// only from Resource and DomainResource, so no lookup is needed
				// for the common miss.
				if v.typ == name || ((name == "Resource" || name == "DomainResource") && ev.spec != nil && ev.spec.IsA(v.typ, name)) {
					out = append(out, v)
				}
				continue
			}
			var err error
			if out, err = v.children(name, out); err != nil {
				return nil, err
			}
		case TypeInfo:
			switch name {
			case "namespace":
				out = append(out, String(v.Namespace))
			case "name":
				out = append(out, String(v.Name))
			}
		}
	}
	if err := ev.step(len(out)); err != nil {
		return nil, err
	}
	return out, nil
}

// constant resolves %name (https://hl7.org/fhirpath/N1/#environment-variables
// and https://hl7.org/fhir/R4/fhirpath.html#variables).
func (ev *evaluator) constant(name string) (Collection, error) {
	if v, ok := ev.env.Vars[name]; ok {
		return v, nil
	}
	switch name {
	case "context":
		if ev.env.Context != nil {
			return ev.env.Context, nil
		}
		return ev.focus, nil
	case "resource":
		if ev.env.Resource != nil {
			return Collection{ev.env.Resource}, nil
		}
		return ev.focus, nil
	case "rootResource":
		if ev.env.RootResource != nil {
			return Collection{ev.env.RootResource}, nil
		}
		if ev.env.Resource != nil {
			return Collection{ev.env.Resource}, nil
		}
		return ev.focus, nil
	case "ucum":
		return Collection{String("http://unitsofmeasure.org")}, nil
	case "sct":
		return Collection{String("http://snomed.info/sct")}, nil
	case "loinc":
		return Collection{String("http://loinc.org")}, nil
	}
	if len(name) > 3 && name[:3] == "vs-" {
		return Collection{String("http://hl7.org/fhir/ValueSet/" + name[3:])}, nil
	}
	if len(name) > 4 && name[:4] == "ext-" {
		return Collection{String("http://hl7.org/fhir/StructureDefinition/" + name[4:])}, nil
	}
	return nil, errorf("unknown environment variable %%%s", name)
}

// AsBoolean reads a result with singleton evaluation of collections
// (https://hl7.org/fhirpath/N1/#singleton-evaluation-of-collections): empty
// is unknown (ok false), one Boolean is its value, one other item is true,
// more than one item is an error.
func AsBoolean(c Collection) (value, ok bool, err error) {
	switch len(c) {
	case 0:
		return false, false, nil
	case 1:
		if v, isSys := sysValue(c[0]); isSys {
			if b, isBool := v.(Boolean); isBool {
				return bool(b), true, nil
			}
		}
		return true, true, nil
	}
	return false, false, errorf("expected a single boolean, got %d items", len(c))
}

// singletonBool converts an operand of a boolean operator.
func singletonBool(c Collection) (value, ok bool, err error) { return AsBoolean(c) }

func singleton(c Collection) (Item, error) {
	switch len(c) {
	case 0:
		return nil, nil
	case 1:
		v, ok := sysValue(c[0])
		if !ok {
			return c[0], nil
		}
		return v, nil
	}
	return nil, errorf("expected a single item, got %d", len(c))
}

func singletonInteger(c Collection) (int64, error) {
	v, err := singleton(c)
	if err != nil {
		return 0, err
	}
	i, ok := v.(Integer)
	if !ok {
		return 0, errorf("expected an integer")
	}
	return int64(i), nil
}
