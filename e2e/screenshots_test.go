package e2e

import (
	"bytes"
	"cmp"
	"context"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"
)

// screenshotDir is where GATEHOUSE_SCREENSHOTS=1 puts the screenshots the
// README shows.
const screenshotDir = "../docs/screenshots"

// screenshotPages are the pages worth a screenshot (others are checked,
// not photographed), so the committed images stay few and small.
var screenshotPages = map[string]bool{
	"login": true, "login-error": true, "second-factor": true, "totp-enroll": true,
	"recovery-codes": true, "consent": true, "account": true, "connected-apps": true,
	"change-password": true, "error": true, "rp-claims": true, "spa-claims": true,
}

// screenshots saves PNGs of pages at both widths.
type screenshots struct {
	dir string
}

// newScreenshots writes to docs/screenshots when GATEHOUSE_SCREENSHOTS=1,
// else to a temporary directory (the code path runs all the same).
func newScreenshots(t *testing.T) *screenshots {
	dir := t.TempDir()
	if os.Getenv(screenshotsEnv) == "1" {
		dir = screenshotDir
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return &screenshots{dir: dir}
}

// take saves the whole page as <name>-<width>.png, with 256 colors.
func (s *screenshots) take(b *browser, name, width string) {
	b.t.Helper()
	if s == nil || !screenshotPages[name] {
		return
	}
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	raw, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		b.fatalf("screenshot %s: %v", name, err)
	}
	img, err := png.Decode(bytes.NewReader(raw))
	if err != nil {
		b.t.Fatalf("screenshot %s: %v", name, err)
	}
	var out bytes.Buffer
	if err := (&png.Encoder{CompressionLevel: png.BestCompression}).Encode(&out, quantize(img)); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.dir, name+"-"+width+".png"), out.Bytes(), 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// quantize keeps the 256 most frequent colors of a screenshot and maps the
// others (anti-aliasing shades) to the nearest: pages are flat colors and
// text, so this looks the same at a third of the size.
func quantize(img image.Image) *image.Paletted {
	bounds := img.Bounds()
	rgba := image.NewRGBA(bounds)
	draw.Draw(rgba, bounds, img, bounds.Min, draw.Src)
	counts := map[color.RGBA]int{}
	for i := 0; i < len(rgba.Pix); i += 4 {
		counts[color.RGBA{rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2], rgba.Pix[i+3]}]++
	}
	colors := slices.Collect(maps.Keys(counts))
	slices.SortFunc(colors, func(a, b color.RGBA) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(uint32(a.R)<<24|uint32(a.G)<<16|uint32(a.B)<<8|uint32(a.A), uint32(b.R)<<24|uint32(b.G)<<16|uint32(b.B)<<8|uint32(b.A))
	})
	pal := make(color.Palette, 0, 256)
	for _, c := range colors[:min(len(colors), 256)] {
		pal = append(pal, c)
	}
	out := image.NewPaletted(bounds, pal)
	index := map[color.RGBA]uint8{}
	for i := 0; i < len(rgba.Pix); i += 4 {
		c := color.RGBA{rgba.Pix[i], rgba.Pix[i+1], rgba.Pix[i+2], rgba.Pix[i+3]}
		n, ok := index[c]
		if !ok {
			n = uint8(pal.Index(c))
			index[c] = n
		}
		out.Pix[i/4] = n
	}
	return out
}
