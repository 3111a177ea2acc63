package oauth

// SMARTConfiguration is the document at [fhir base]/.well-known/smart-configuration
// (https://hl7.org/fhir/smart-app-launch/STU2.2/conformance.html#metadata).
// It lists only what works. The operator grant (client_credentials with
// client_secret_basic) is deliberately absent: SMART's symmetric profile
// is not for backend services, and scripts know the endpoint anyway.
func (s *Server) SMARTConfiguration() map[string]any {
	return map[string]any{
		"issuer":                                s.issuer,
		"jwks_uri":                              s.Endpoint("jwks"),
		"authorization_endpoint":                s.Endpoint("authorize"),
		"token_endpoint":                        s.Endpoint("token"),
		"introspection_endpoint":                s.Endpoint("introspect"),
		"revocation_endpoint":                   s.Endpoint("revoke"),
		"userinfo_endpoint":                     s.Endpoint("userinfo"),
		"grant_types_supported":                 []string{"authorization_code", "client_credentials", "refresh_token"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"token_endpoint_auth_signing_alg_values_supported": []string{"RS384", "ES384"},
		"scopes_supported": []string{"openid", "fhirUser", "profile", "launch", "launch/patient", "launch/encounter",
			"offline_access", "online_access", "patient/*.cruds", "user/*.cruds", "system/*.cruds",
			"patient/*.read", "user/*.read", "system/*.read"},
		"response_types_supported":         []string{"code"},
		"code_challenge_methods_supported": []string{"S256"},
		"capabilities": []string{
			"launch-ehr", "launch-standalone", "client-public", "client-confidential-symmetric",
			"client-confidential-asymmetric", "sso-openid-connect", "context-passthrough-banner",
			"context-passthrough-style", "context-ehr-patient", "context-ehr-encounter",
			"context-standalone-patient", "permission-offline", "permission-online", "permission-patient",
			"permission-user", "permission-v1", "permission-v2", "authorize-post",
		},
	}
}

// OpenIDConfiguration is the OIDC discovery document at
// [issuer]/.well-known/openid-configuration
// (https://openid.net/specs/openid-connect-discovery-1_0.html#ProviderMetadata).
func (s *Server) OpenIDConfiguration() map[string]any {
	return map[string]any{
		"issuer":                                s.issuer,
		"authorization_endpoint":                s.Endpoint("authorize"),
		"token_endpoint":                        s.Endpoint("token"),
		"userinfo_endpoint":                     s.Endpoint("userinfo"),
		"jwks_uri":                              s.Endpoint("jwks"),
		"introspection_endpoint":                s.Endpoint("introspect"),
		"revocation_endpoint":                   s.Endpoint("revoke"),
		"response_types_supported":              []string{"code"},
		"subject_types_supported":               []string{"public"},
		"id_token_signing_alg_values_supported": []string{string(signingAlg)},
		"scopes_supported":                      []string{"openid", "fhirUser", "profile", "offline_access", "online_access"},
		"claims_supported":                      []string{"iss", "sub", "aud", "exp", "iat", "auth_time", "nonce", "azp", "fhirUser", "preferred_username"},
		"grant_types_supported":                 []string{"authorization_code", "refresh_token", "client_credentials"},
		"token_endpoint_auth_methods_supported": []string{"client_secret_basic", "client_secret_post", "private_key_jwt"},
		"code_challenge_methods_supported":      []string{"S256"},
	}
}
