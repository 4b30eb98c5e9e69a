package server

import (
	"net/http"

	"github.com/gatehouse/gatehouse/server/ui"
)

// secondFactorRoutes adds the second-factor and account pages to the route
// table; page wraps GET handlers, post the CSRF-protected POST handlers.
func secondFactorRoutes(mux *http.ServeMux, h *ui.Handlers, page, post func(http.HandlerFunc) http.Handler) {
	for _, rt := range []struct {
		path      string
		get, post http.HandlerFunc
	}{
		{ui.SecondFactorPath, h.SecondFactorPage, h.SecondFactor},
		{ui.EnrollPath, h.EnrollPage, h.Enroll},
		{ui.AccountPath, h.Account, nil},
		{ui.AccountSignInPath, h.AccountSignInPage, h.AccountSignIn},
		{ui.AccountVerifyPath, h.AccountVerifyPage, h.AccountVerify},
		{ui.AccountReauthPath, h.ReauthPage, h.Reauth},
		{ui.AccountTOTPPath, h.AccountTOTPPage, h.AccountTOTP},
		{ui.AccountDisablePath, h.DisableTOTPPage, h.DisableTOTP},
		{ui.AccountRecoveryPath, h.RecoveryCodesPage, h.RecoveryCodes},
		{ui.AccountPasswordPath, h.AccountPasswordPage, h.AccountPassword},
		{ui.AccountProfilePath, h.AccountProfilePage, h.AccountProfile},
		{ui.AccountAppsPath, h.AccountAppsPage, h.AccountAppRevoke},
		{ui.AccountSignOutPath, nil, h.AccountSignOutEverywhere},
	} {
		if rt.get != nil {
			mux.Handle("GET "+rt.path, page(rt.get))
		}
		if rt.post != nil {
			mux.Handle("POST "+rt.path, post(rt.post))
		}
	}
}
