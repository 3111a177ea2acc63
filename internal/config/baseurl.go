package config

import (
	"errors"
	"net"
	"net/url"
	"strings"
)

// CheckBaseURL validates a public base URL and returns it without a trailing
// slash. The base is an absolute http or https URL with a host, optionally a
// path (when a proxy serves Continuum under a prefix), and no user info,
// query or fragment: every absolute URL the server emits is the base followed
// by a path, so anything after the path would corrupt them.
//
// Absolute URLs come from configuration only, never from the request's Host
// header, which the client controls (Host header injection poisons links,
// Location headers and the `iss` of SMART launches).
func CheckBaseURL(s string) (string, error) {
	u, err := url.Parse(s)
	if err != nil {
		return "", errors.New("not a URL")
	}
	switch {
	case u.Scheme != "http" && u.Scheme != "https":
		return "", errors.New("must be an absolute http:// or https:// URL")
	case u.Host == "" || u.Hostname() == "":
		return "", errors.New("must name a host")
	case u.User != nil:
		return "", errors.New("must not contain user info")
	case u.RawQuery != "" || u.ForceQuery:
		return "", errors.New("must not contain a query")
	case u.Fragment != "" || strings.Contains(s, "#"):
		return "", errors.New("must not contain a fragment")
	}
	return strings.TrimRight(s, "/"), nil
}

// DefaultBaseURL is the base URL used when --base-url is not set: the listen
// address as a URL. An unspecified host (":8080", "0.0.0.0:8080", "[::]:8080")
// becomes localhost, which at least works on the machine itself; deployments
// reachable from elsewhere set --base-url.
func DefaultBaseURL(listenAddr string, tls bool) string {
	scheme := "http"
	if tls {
		scheme = "https"
	}
	host, port, err := net.SplitHostPort(listenAddr)
	if err != nil {
		return scheme + "://" + listenAddr
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		host = "localhost"
	}
	return scheme + "://" + net.JoinHostPort(host, port)
}
