package authweb

import (
	"errors"
	"net/http"

	"github.com/continuum-ehr/continuum/internal/oauth"
	"github.com/continuum-ehr/continuum/internal/outcome"
)

// accountPage lets a signed-in user change their password and set up a
// second factor (required for administrators, optional for others).
func (w *Web) accountPage(rw http.ResponseWriter, r *http.Request) {
	sess, err := w.session(r)
	if err != nil {
		w.serverError(rw, r, err)
		return
	}
	if sess == nil || !sess.MFADone() {
		w.signinPage(rw, r)
		return
	}
	w.renderAccount(rw, sess, http.StatusOK, "", "")
}

func (w *Web) renderAccount(rw http.ResponseWriter, sess *oauth.Session, status int, msg, errMsg string) {
	w.render(rw, status, "account.html", page{Title: "Your account", Username: sess.User.Username, CSRF: w.o.CSRFToken(sess),
		SignedIn: true, Message: msg, Error: errMsg, MFAEnrolled: sess.User.MFAEnrolled}, "")
}

func (w *Web) password(rw http.ResponseWriter, r *http.Request) {
	sess := w.sessionForm(rw, r)
	if sess == nil {
		return
	}
	f := r.PostForm
	if f.Get("new") != f.Get("confirm") {
		w.renderAccount(rw, sess, http.StatusBadRequest, "", "The new password and its confirmation differ.")
		return
	}
	err := w.o.ChangeOwnPassword(r.Context(), sess, f.Get("current"), f.Get("new"), addr(r))
	var oe *outcome.Error
	switch {
	case errors.Is(err, oauth.ErrCurrentPassword):
		w.renderAccount(rw, sess, http.StatusUnauthorized, "", "The current password is not correct.")
	case errors.As(err, &oe) && oe.Kind == outcome.Invalid:
		w.renderAccount(rw, sess, http.StatusBadRequest, "", "The new password cannot be used: "+oe.Error()+".")
	case err != nil:
		w.serverError(rw, r, err)
	default:
		w.renderAccount(rw, sess, http.StatusOK, "Your password is changed.", "")
	}
}

// mfaStart shows the enrolment of a second factor; the code is checked by
// the second-factor step's form (/auth/totp).
func (w *Web) mfaStart(rw http.ResponseWriter, r *http.Request) {
	sess := w.sessionForm(rw, r)
	if sess == nil {
		return
	}
	if sess.User.MFAEnrolled {
		w.renderAccount(rw, sess, http.StatusOK, "A second factor is already set up.", "")
		return
	}
	w.totpPage(rw, r, sess, page{CSRF: w.o.CSRFToken(sess), SignedIn: true}, "", "")
}
