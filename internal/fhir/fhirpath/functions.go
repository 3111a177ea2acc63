package fhirpath

// The function table (https://hl7.org/fhirpath/N1/#functions and the FHIR
// additions of https://hl7.org/fhir/R4/fhirpath.html#functions). Calls are
// resolved and their argument counts checked at compile time, so an
// unknown function is a compile error, not a surprise at run time.

type impl func(ev *evaluator, n *node, f *frame, in Collection) (Collection, error)

type funcDef struct {
	min, max int // argument counts
	impl     impl
	typeArg  bool // the argument is a type specifier (is, as, ofType)
}

// funcs is immutable after package initialization.
var funcs = map[string]*funcDef{
	// existence
	"empty":      {0, 0, fnEmpty, false},
	"exists":     {0, 1, fnExists, false},
	"all":        {1, 1, fnAll, false},
	"allTrue":    {0, 0, fnAllAny(true, true), false},
	"anyTrue":    {0, 0, fnAllAny(false, true), false},
	"allFalse":   {0, 0, fnAllAny(true, false), false},
	"anyFalse":   {0, 0, fnAllAny(false, false), false},
	"subsetOf":   {1, 1, fnSubsetOf(false), false},
	"supersetOf": {1, 1, fnSubsetOf(true), false},
	"count":      {0, 0, fnCount, false},
	"distinct":   {0, 0, fnDistinct, false},
	"isDistinct": {0, 0, fnIsDistinct, false},
	// filtering and projection
	"where":  {1, 1, fnWhere, false},
	"select": {1, 1, fnSelect, false},
	"repeat": {1, 1, fnRepeat, false},
	"ofType": {1, 1, fnOfType, true},
	// subsetting
	"single":    {0, 0, fnSingle, false},
	"first":     {0, 0, fnFirst, false},
	"last":      {0, 0, fnLast, false},
	"tail":      {0, 0, fnTail, false},
	"skip":      {1, 1, fnSkip, false},
	"take":      {1, 1, fnTake, false},
	"intersect": {1, 1, fnIntersect, false},
	"exclude":   {1, 1, fnExclude, false},
	// combining
	"union":   {1, 1, fnUnion, false},
	"combine": {1, 1, fnCombine, false},
	// conversion
	"iif":                {2, 3, fnIif, false},
	"toBoolean":          {0, 0, convFn(toBoolean, false), false},
	"convertsToBoolean":  {0, 0, convFn(toBoolean, true), false},
	"toInteger":          {0, 0, convFn(toInteger, false), false},
	"convertsToInteger":  {0, 0, convFn(toInteger, true), false},
	"toDecimal":          {0, 0, convFn(toDecimal, false), false},
	"convertsToDecimal":  {0, 0, convFn(toDecimal, true), false},
	"toString":           {0, 0, convFn(toStringItem, false), false},
	"convertsToString":   {0, 0, convFn(toStringItem, true), false},
	"toDate":             {0, 0, convFn(toDate, false), false},
	"convertsToDate":     {0, 0, convFn(toDate, true), false},
	"toDateTime":         {0, 0, convFn(toDateTime, false), false},
	"convertsToDateTime": {0, 0, convFn(toDateTime, true), false},
	"toTime":             {0, 0, convFn(toTime, false), false},
	"convertsToTime":     {0, 0, convFn(toTime, true), false},
	"toQuantity":         {0, 1, fnToQuantity(false), false},
	"convertsToQuantity": {0, 1, fnToQuantity(true), false},
	// strings
	"indexOf":        {1, 1, fnIndexOf, false},
	"substring":      {1, 2, fnSubstring, false},
	"startsWith":     {1, 1, strPred(func(s, a string) bool { return len(a) <= len(s) && s[:len(a)] == a }), false},
	"endsWith":       {1, 1, strPred(func(s, a string) bool { return len(a) <= len(s) && s[len(s)-len(a):] == a }), false},
	"contains":       {1, 1, strPred(containsStr), false},
	"upper":          {0, 0, strMap(upper), false},
	"lower":          {0, 0, strMap(lower), false},
	"replace":        {2, 2, fnReplace, false},
	"matches":        {1, 1, fnMatches(false), false},
	"matchesFull":    {1, 1, fnMatches(true), false},
	"replaceMatches": {2, 2, fnReplaceMatches, false},
	"length":         {0, 0, fnLength, false},
	"toChars":        {0, 0, fnToChars, false},
	"trim":           {0, 0, strMap(trim), false},
	"split":          {1, 1, fnSplit, false},
	"join":           {0, 1, fnJoin, false},
	"encode":         {1, 1, fnEncode(true), false},
	"decode":         {1, 1, fnEncode(false), false},
	"escape":         {1, 1, fnEscape(true), false},
	"unescape":       {1, 1, fnEscape(false), false},
	// math
	"abs":      {0, 0, fnAbs, false},
	"ceiling":  {0, 0, mathInt("ceiling"), false},
	"floor":    {0, 0, mathInt("floor"), false},
	"truncate": {0, 0, mathInt("truncate"), false},
	"round":    {0, 1, fnRound, false},
	"exp":      {0, 0, mathFloat("exp"), false},
	"ln":       {0, 0, mathFloat("ln"), false},
	"sqrt":     {0, 0, mathFloat("sqrt"), false},
	"log":      {1, 1, fnLog, false},
	"power":    {1, 1, fnPower, false},
	// tree navigation
	"children":    {0, 0, fnChildren, false},
	"descendants": {0, 0, fnDescendants, false},
	// utility
	"trace":     {1, 2, fnTrace, false},
	"now":       {0, 0, fnNow, false},
	"today":     {0, 0, fnToday, false},
	"timeOfDay": {0, 0, fnTimeOfDay, false},
	"not":       {0, 0, fnNot, false},
	"aggregate": {1, 2, fnAggregate, false},
	"sort":      {0, 99, fnSort, false},
	// types
	"is":   {1, 1, fnIs, true},
	"as":   {1, 1, fnAs, true},
	"type": {0, 0, fnType, false},
	// precision (FHIRPath 2.1 additions the R4 suite tests)
	"lowBoundary":  {0, 1, fnBoundary(false), false},
	"highBoundary": {0, 1, fnBoundary(true), false},
	"precision":    {0, 0, fnPrecision, false},
	"comparable":   {1, 1, fnComparable, false},
	// FHIR additions
	"extension": {1, 1, fnExtension, false},
	// hasExtension(url) is in neither FHIRPath N1 nor the FHIR additions,
	// but one R4 SearchParameter (questionnaireresponse-item-subject) uses
	// it; it is extension(url).exists().
	"hasExtension":      {1, 1, fnHasExtension, false},
	"hasValue":          {0, 0, fnHasValue, false},
	"getValue":          {0, 0, fnGetValue, false},
	"resolve":           {0, 0, fnResolve, false},
	"htmlChecks":        {0, 0, fnHTMLChecks, false},
	"htmlchecks":        {0, 0, fnHTMLChecks, false},
	"memberOf":          {1, 1, fnMemberOf, false},
	"conformsTo":        {1, 1, fnConformsTo, false},
	"subsumes":          {1, 1, notSupported("subsumes", "needs a terminology server"), false},
	"subsumedBy":        {1, 1, notSupported("subsumedBy", "needs a terminology server"), false},
	"elementDefinition": {0, 0, notSupported("elementDefinition", "element definitions are not exposed as FHIRPath values"), false},
	"slice":             {2, 2, notSupported("slice", "profiles and slicing are not modelled yet"), false},
	"checkModifiers":    {1, 1, notSupported("checkModifiers", "profiles are not modelled yet"), false},
}

func notSupported(name, why string) impl {
	return func(*evaluator, *node, *frame, Collection) (Collection, error) {
		return nil, errorf("%s() is not supported: %s", name, why)
	}
}

func compileCall(src string, call *node) error {
	fd, ok := funcs[call.name]
	if !ok {
		return syntaxErr(src, call.pos, "unknown function %s()", call.name)
	}
	if len(call.args) < fd.min || len(call.args) > fd.max {
		return syntaxErr(src, call.pos, "%s() takes %s, got %d", call.name, argCount(fd), len(call.args))
	}
	if fd.typeArg {
		ts, ok := typeSpecOf(call.args[0])
		if !ok {
			return syntaxErr(src, call.args[0].pos, "%s() needs a type name", call.name)
		}
		call.typ = ts
	}
	call.fn = fd
	return nil
}

func argCount(fd *funcDef) string {
	switch {
	case fd.min == fd.max && fd.min == 1:
		return "1 argument"
	case fd.min == fd.max:
		return itoa(fd.min) + " arguments"
	}
	return itoa(fd.min) + " to " + itoa(fd.max) + " arguments"
}

// typeSpecOf reads a type specifier written as an expression argument:
// ofType(Quantity), is(FHIR.string), as(`Patient`).
func typeSpecOf(n *node) (*typeSpec, bool) {
	switch n.kind {
	case nIdent:
		return &typeSpec{name: n.name}, true
	case nChild:
		if n.left.kind == nIdent {
			return &typeSpec{ns: n.left.name, name: n.name}, true
		}
	}
	return nil, false
}

// arg evaluates argument i in the caller's frame: ordinary arguments see
// the same $this as the invocation (https://hl7.org/fhirpath/N1/#functions).
func (ev *evaluator) arg(n *node, f *frame, i int) (Collection, error) {
	if i >= len(n.args) {
		return nil, nil
	}
	return ev.eval(n.args[i], f)
}

// lambda evaluates expr once per item with $this and $index bound.
func (ev *evaluator) lambda(expr *node, in Collection, each func(i int, it Item, res Collection) error) error {
	if len(in) == 0 {
		return nil
	}
	fr := &frame{hasIndex: true}
	one := make(Collection, 1)
	for i, it := range in {
		one[0] = it
		fr.this, fr.index = one[:1:1], i
		res, err := ev.eval(expr, fr)
		if err != nil {
			return err
		}
		if err := each(i, it, res); err != nil {
			return err
		}
	}
	return nil
}
