package oauth

import (
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/gatehouse/gatehouse/server/policy"
	"github.com/gatehouse/gatehouse/storage"
)

// The second factor in the dispatcher. A user with an authenticator app is
// not signed in after the password alone: the login page records the
// password in the pending request and the dispatcher sends the browser to
// the second-factor page, which signs it in. A session that holds only a
// password is stepped up (code asked, password not) when the authorization
// requires a second factor; a user who must use one but has none enrolls
// first, inside the flow.

// awaitingSecondFactor handles a pending request whose user proved their
// password for it but is not signed in yet: they owe the second factor. It
// reports whether it answered.
func (p *Provider) awaitingSecondFactor(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, pending *storage.AuthRequest) bool {
	if policy.HasSecondFactor(pending.AMR) || !slices.Contains(pending.AMR, policy.AMRPassword) {
		return false
	}
	user, err := p.activeUser(r, pending.UserID)
	if err != nil {
		p.authorizeError(w, r, ar, err)
		return true
	}
	if user == nil || !user.HasTOTP {
		return false
	}
	http.Redirect(w, r, p.cfg.SecondFactorPath+"?"+url.Values{"ar": {pending.ID}}.Encode(), http.StatusSeeOther)
	return true
}

// secondFactorDue sends the browser to the second-factor page (or, when
// the user has no authenticator app, to enrollment) if the authorization
// needs a second factor that auth lacks. It reports whether it answered.
func (p *Provider) secondFactorDue(w http.ResponseWriter, r *http.Request, ar fosite.AuthorizeRequester, pending *storage.AuthRequest, auth *authentication, prompts []string) bool {
	if policy.HasSecondFactor(auth.amr) {
		return false
	}
	need := policy.MFA{
		Enrolled:       auth.user.HasTOTP,
		UserRequires:   auth.user.RequireMFA,
		ClientRequires: ar.GetClient().(*storage.Client).RequireMFA,
		RoleRequires:   policy.AnyRequiresMFA(auth.user.Roles),
		ACRValues:      strings.Fields(ar.GetRequestForm().Get("acr_values")),
	}
	if !need.Required() {
		return false
	}
	if slices.Contains(prompts, "none") {
		p.authorizeError(w, r, ar, fosite.ErrLoginRequired.WithHint("The authorization needs a second factor."))
		return true
	}
	path := p.cfg.SecondFactorPath
	if !auth.user.HasTOTP {
		if !policy.PasswordIsRecent(auth.authTime, p.cfg.Now()) {
			// Enrolling a new factor needs a fresh password.
			p.sendTo(w, r, ar, pending, p.cfg.LoginPath, nil)
			return true
		}
		path = p.cfg.EnrollPath
	}
	if pending != nil && pending.UserID == "" {
		// The request went to the login page, but the browser signed in
		// elsewhere meanwhile: the next page needs to know who.
		err := p.store.UpdateAuthRequest(r.Context(), pending.ID, func(a *storage.AuthRequest) error {
			a.UserID, a.AuthTime, a.AMR = auth.user.ID, auth.authTime, auth.amr
			return nil
		})
		if err != nil {
			p.authorizeError(w, r, ar, err)
			return true
		}
	}
	p.sendTo(w, r, ar, pending, path, auth)
	return true
}
