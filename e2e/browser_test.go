package e2e

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"
)

// browser is one headless Chromium with a fresh profile, driven through
// one tab.
type browser struct {
	t   *testing.T
	ctx context.Context
	// axe is the source of axe-core, injected into every checked page.
	axe string
	// shots saves the screenshots of checked pages; nil means none.
	shots *screenshots
}

// Viewports of the checks and screenshots.
const (
	desktopWidth, desktopHeight = 1280, 800
	phoneWidth, phoneHeight     = 390, 844
)

// stepTimeout bounds each browser step (a navigation, a click and the page
// it leads to).
const stepTimeout = 30 * time.Second

func newBrowser(t *testing.T, shots *screenshots) *browser {
	t.Helper()
	axe, err := os.ReadFile(axePath())
	if err != nil {
		t.Fatal(err)
	}
	// The flags this machine kind needs: without the background-networking
	// ones Chromium keeps trying to reach Google's hosts.
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("lang", "en-US"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(desktopWidth, desktopHeight),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	// Chromium's protocol errors go to stderr: t.Logf could be called
	// after the test ended.
	ctx, cancelTab := chromedp.NewContext(actx, chromedp.WithErrorf(func(format string, args ...any) {
		fmt.Fprintf(os.Stderr, "chromedp: "+format+"\n", args...)
	}))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	b := &browser{t: t, ctx: ctx, axe: string(axe), shots: shots}
	if err := chromedp.Do(ctx); err != nil { // starts Chromium, without a step deadline
		t.Fatalf("start Chromium: %v", err)
	}
	b.do("set the desktop viewport", chromedp.EmulateViewport(desktopWidth, desktopHeight))
	return b
}

// do runs actions within stepTimeout and fails the test on an error.
func (b *browser) do(what string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.fatalf("%s: %v", what, err)
	}
}

// fatalf fails the test with the page the browser is on.
func (b *browser) fatalf(format string, args ...any) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body ? document.body.innerText : ""`))
	b.t.Fatalf("%s\n  on %s:\n%s", fmt.Sprintf(format, args...), loc, indent(text))
}

func indent(s string) string {
	s = strings.TrimSpace(s)
	if len(s) > 1500 {
		s = s[:1500] + " …"
	}
	return "    " + strings.ReplaceAll(s, "\n", "\n    ")
}

// eval evaluates JavaScript (awaiting a promise) and decodes its result.
func eval[T any](b *browser, expr string) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	if err != nil {
		b.fatalf("evaluate %.60q: %v", expr, err)
	}
	return v
}

func (b *browser) navigate(url string) {
	b.t.Helper()
	b.do("open "+url, chromedp.Navigate(url))
}

// waitFor waits until an element matching sel is visible.
func (b *browser) waitFor(sel string) {
	b.t.Helper()
	b.do("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// click clicks the element and waits for an element of the page it leads to.
func (b *browser) click(sel, next string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)), chromedp.WaitVisible(chromedp.CSS(next)))
}

// clickUntil clicks the element and waits until a JavaScript condition
// holds, across the navigations the click may cause.
func (b *browser) clickUntil(sel, cond string) {
	b.t.Helper()
	b.do("click "+sel, chromedp.Click(chromedp.CSS(sel)))
	b.waitUntil(cond)
}

// waitUntil evaluates cond until it is true; errors while a page unloads
// or loads count as false.
func (b *browser) waitUntil(cond string) {
	b.t.Helper()
	deadline := time.Now().Add(stepTimeout)
	for {
		ctx, cancel := context.WithTimeout(b.ctx, time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		if time.Now().After(deadline) {
			b.fatalf("waiting for %s: still false (last error: %v)", cond, err)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// fill types value into a field, as a person would, after clearing it.
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	b.do("fill "+sel,
		chromedp.Evaluate[chromedp.Void](`document.querySelector(`+strconv.Quote(sel)+`).value = ""`),
		chromedp.SendKeys(chromedp.CSS(sel), value))
}

func (b *browser) text(sel string) string {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		b.fatalf("read %s: %v", sel, err)
	}
	return strings.TrimSpace(s)
}

func (b *browser) location() string {
	b.t.Helper()
	return eval[string](b, `location.href`)
}

// waitLoaded waits until the document and its resources have loaded.
func (b *browser) waitLoaded() {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](`document.readyState === "complete"`)); err != nil {
		b.fatalf("wait for the page to load: %v", err)
	}
}

// checkPage runs the checks every page must pass, and takes its
// screenshots: no horizontal scroll at phone width, no serious or critical
// axe-core violation, a label for every field, errors tied to their
// fields, and a visible focus indicator after a Tab.
func (b *browser) checkPage(name string) {
	b.t.Helper()
	for _, problem := range b.pageProblems(name) {
		b.t.Errorf("page %s: %s", name, problem)
	}
}

// pageProblems runs the checks of checkPage and returns what they found.
func (b *browser) pageProblems(name string) []string {
	b.t.Helper()
	b.waitLoaded()
	problems := b.checkPhoneWidth(name)
	problems = append(problems, b.checkAxe()...)
	problems = append(problems, eval[[]string](b, formsScript)...)
	return append(problems, b.checkFocusVisible(name)...)
}

// checkPhoneWidth lays the page out at phone width, where nothing may
// scroll sideways, then takes the screenshots at both widths.
func (b *browser) checkPhoneWidth(name string) []string {
	b.t.Helper()
	b.do("set the phone viewport", chromedp.EmulateViewport(phoneWidth, phoneHeight))
	var problems []string
	if overflow := eval[[]string](b, overflowScript); len(overflow) > 0 {
		problems = append(problems, fmt.Sprintf("scrolls sideways at %d px; too wide: %s", phoneWidth, strings.Join(overflow, "; ")))
	}
	b.shots.take(b, name, "phone")
	b.do("set the desktop viewport", chromedp.EmulateViewport(desktopWidth, desktopHeight))
	b.shots.take(b, name, "desktop")
	return problems
}

// overflowScript lists what sticks out when the page is wider than the viewport.
const overflowScript = `(() => {
  const root = document.documentElement;
  if (root.scrollWidth <= root.clientWidth) return [];
  const out = [root.scrollWidth + " > " + root.clientWidth];
  for (const el of document.body.querySelectorAll("*")) {
    const r = el.getBoundingClientRect();
    if (r.right > root.clientWidth + 0.5) out.push(el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") + (el.className ? "." + el.className : "") + " right=" + Math.round(r.right));
    if (out.length > 6) break;
  }
  return out;
})()`

// axeViolation is the part of an axe-core result a failure report needs.
type axeViolation struct {
	ID     string   `json:"id"`
	Impact string   `json:"impact"`
	Help   string   `json:"help"`
	Nodes  []string `json:"nodes"`
}

// checkAxe runs axe-core (its default rules: WCAG 2 A and AA and best
// practices) and returns the serious and critical violations; the others
// are logged.
func (b *browser) checkAxe() []string {
	b.t.Helper()
	if !eval[bool](b, `typeof window.axe !== "undefined"`) {
		b.do("inject axe-core", chromedp.Evaluate[chromedp.Void](b.axe))
	}
	violations := eval[[]axeViolation](b, `axe.run(document, {resultTypes: ["violations"]}).then(r =>
	  r.violations.map(v => ({id: v.id, impact: v.impact || "", help: v.help, nodes: v.nodes.map(n => n.target.join(" "))})))`)
	var problems []string
	for _, v := range violations {
		msg := fmt.Sprintf("axe %s (%s): %s at %s", v.ID, v.Impact, v.Help, strings.Join(v.Nodes, ", "))
		if v.Impact == "serious" || v.Impact == "critical" {
			problems = append(problems, msg)
		} else {
			b.t.Log(msg)
		}
	}
	return problems
}

// formsScript checks the fields of a page: each visible field has a label
// with text; each aria-describedby names an element with text; a field
// marked invalid points at an error; each visible error is named by a
// field's aria-describedby.
const formsScript = `(() => {
  const problems = [];
  const visible = el => el.getClientRects().length > 0;
  const ids = el => (el.getAttribute("aria-describedby") || "").split(/\s+/).filter(Boolean);
  const fields = [...document.querySelectorAll("input, select, textarea")]
    .filter(el => el.type !== "hidden" && !["submit", "button", "reset", "image"].includes(el.type) && visible(el));
  const described = new Set();
  for (const el of fields) {
    const name = el.name || el.id || el.type;
    if (![...(el.labels || [])].some(l => l.textContent.trim() !== "")) problems.push("field " + name + " has no <label>");
    for (const id of ids(el)) {
      described.add(id);
      const target = document.getElementById(id);
      if (!target || target.textContent.trim() === "") problems.push("field " + name + ": aria-describedby names a missing or empty #" + id);
    }
    if (el.getAttribute("aria-invalid") === "true" && !ids(el).some(id => { const e = document.getElementById(id); return e && e.matches(".error, [role=alert]"); }))
      problems.push("field " + name + " is aria-invalid but names no error in aria-describedby");
  }
  if (fields.length > 0) {
    for (const err of document.querySelectorAll(".error")) {
      if (visible(err) && !(err.id && described.has(err.id)))
        problems.push("error \"" + err.textContent.trim().slice(0, 60) + "\" is not tied to a field (aria-describedby)");
    }
  }
  return problems;
})()`

// focusState is what the focused element looks like.
type focusState struct {
	None         bool    `json:"none"`
	Element      string  `json:"element"`
	FocusVisible bool    `json:"focusVisible"`
	Outline      string  `json:"outline"`
	OutlineWidth float64 `json:"outlineWidth"`
	BoxShadow    string  `json:"boxShadow"`
}

// checkFocusVisible presses Tab, as a keyboard user would, and requires
// the element that gets focus to match :focus-visible and to draw an
// outline (at least 2 px) or a box shadow.
func (b *browser) checkFocusVisible(name string) []string {
	b.t.Helper()
	b.do("press Tab", chromedp.KeyEvent(kb.Tab))
	f := eval[focusState](b, `(() => {
	  const el = document.activeElement;
	  if (!el || el === document.body) return {none: true};
	  const cs = getComputedStyle(el);
	  return {element: el.tagName.toLowerCase() + (el.id ? "#" + el.id : ""), focusVisible: el.matches(":focus-visible"),
	    outline: cs.outlineStyle, outlineWidth: parseFloat(cs.outlineWidth) || 0, boxShadow: cs.boxShadow};
	})()`)
	switch {
	case f.None:
		b.t.Logf("page %s: nothing to focus with Tab", name)
	case !f.FocusVisible:
		return []string{f.Element + " got focus from the keyboard but does not match :focus-visible"}
	case (f.Outline == "none" || f.OutlineWidth < 2) && (f.BoxShadow == "" || f.BoxShadow == "none"):
		return []string{fmt.Sprintf("focused %s shows no focus indicator (outline %s %.1fpx, box-shadow %s)", f.Element, f.Outline, f.OutlineWidth, f.BoxShadow)}
	}
	return nil
}

func (b *browser) isHidden(sel string) bool {
	b.t.Helper()
	return eval[bool](b, `document.querySelector(`+strconv.Quote(sel)+`).hidden`)
}
