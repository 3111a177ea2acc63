package index

// Hashes are stored in index tables and compared with hashes the search
// side computes from query values, so they must be identical across
// processes, machines and releases: hash/maphash (random seed) is out, and
// any change here must bump ExtractorVersion. FNV-1a 64
// (http://www.isthe.com/chongo/tech/comp/fnv/) is simple, fast enough for
// the short keys of search values, and fixed forever by its definition.

const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// Hash kinds keep the key spaces of different lookups apart, so that
// "system|" and "|code" never meet even when a part is empty.
const (
	kindTokenCode       = "tc"
	kindTokenSystemCode = "tsc"
	kindTokenSystem     = "ts"
	kindTokenOfType     = "tot"
	kindStringExact     = "se"
	kindQuantityCode    = "qc"
	kindQuantitySysCode = "qsc"
	kindQuantityCanon   = "qk"
	kindRefTarget       = "rt"
	kindRefURL          = "ru"
	kindRefIdentifier   = "ri"
	kindURI             = "u"
)

// hash is FNV-1a 64 over the parts, each preceded by a 0xFF separator byte.
// 0xFF never occurs in UTF-8, and fhir.Parse rejects invalid UTF-8, so
// ("ab","c") and ("a","bc") hash differently.
func hash(parts ...string) int64 {
	h := uint64(fnvOffset)
	for _, p := range parts {
		h ^= 0xff
		h *= fnvPrime
		for i := 0; i < len(p); i++ {
			h ^= uint64(p[i])
			h *= fnvPrime
		}
	}
	return int64(h) // SQL integers are signed 64-bit
}

// TokenCodeHash is the key of "param=code" (any system).
func TokenCodeHash(param, code string) int64 { return hash(kindTokenCode, param, code) }

// TokenSystemCodeHash is the key of "param=system|code"; with system ""
// it is the key of "param=|code" (a code without a system).
func TokenSystemCodeHash(param, system, code string) int64 {
	return hash(kindTokenSystemCode, param, system, code)
}

// TokenSystemHash is the key of "param=system|" (any code of the system).
func TokenSystemHash(param, system string) int64 { return hash(kindTokenSystem, param, system) }

// TokenOfTypeHash is the key of "identifier:of-type=typeSystem|typeCode|value"
// (https://hl7.org/fhir/R4/search.html#token).
func TokenOfTypeHash(param, typeSystem, typeCode, value string) int64 {
	return hash(kindTokenOfType, param, typeSystem, typeCode, value)
}

// StringExactHash is the key of "param:exact=value".
func StringExactHash(param, value string) int64 { return hash(kindStringExact, param, value) }

// QuantityCodeHash is the key of "param=n||code" (code, or unit when the
// quantity has no code).
func QuantityCodeHash(param, code string) int64 { return hash(kindQuantityCode, param, code) }

// QuantitySystemCodeHash is the key of "param=n|system|code".
func QuantitySystemCodeHash(param, system, code string) int64 {
	return hash(kindQuantitySysCode, param, system, code)
}

// QuantityCanonicalHash is the key of a UCUM quantity after normalisation
// (see CanonicalUnit): "param=5|http://unitsofmeasure.org|mg" and a stored
// 0.005 g share it.
func QuantityCanonicalHash(param, canonicalUnit string) int64 {
	return hash(kindQuantityCanon, param, canonicalUnit)
}

// ReferenceTargetHash is the key of "param=Type/id". A search by bare id
// expands to one key per target type of the parameter.
func ReferenceTargetHash(param, typ, id string) int64 { return hash(kindRefTarget, param, typ, id) }

// ReferenceURLHash is the key of an absolute or canonical reference
// (without its |version).
func ReferenceURLHash(param, url string) int64 { return hash(kindRefURL, param, url) }

// ReferenceIdentifierHash is the key of "param:identifier=system|value".
func ReferenceIdentifierHash(param, system, value string) int64 {
	return hash(kindRefIdentifier, param, system, value)
}

// URIHash is the key of "param=uri" (exact match).
func URIHash(param, uri string) int64 { return hash(kindURI, param, uri) }
