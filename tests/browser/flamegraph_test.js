// Open a kprof SVG flame graph in headless Chromium and use it as a person would: click a
// frame to zoom, reset, search with the button and with Ctrl-F.  Prints PASS:/FAIL: lines.
//
//   node flamegraph_test.js FLAME.svg CHECKS.json [SCREENSHOT.png]
//
// CHECKS.json: {"zoom": "frame name", "child": "a child of it", "hiddenAfterZoom": "frame name",
//               "fullWidth": 1180,
//               "search": "regex", "matched": 12.34, "search2": "regex", "matched2": 5.6}
// (matched: the percentage of samples the search should report)
'use strict';

const fs = require('fs');
const os = require('os');
const path = require('path');
const { chromium } = require('playwright-core');

const [svgPath, checksPath, shotPath] = process.argv.slice(2);
const checks = JSON.parse(fs.readFileSync(checksPath, 'utf8'));
let failures = 0;

function report(name, ok, detail) {
	console.log(`${ok ? 'PASS' : 'FAIL'}: browser: ${name}${ok || !detail ? '' : ': ' + detail}`);
	if (!ok)
		failures++;
}

// "Matched: 12.34%" against the share computed from the input (pixels round to 0.01).
function sharesEqual(text, want) {
	const m = /^Matched: ([0-9.]+)%$/.exec(text);
	return m !== null && Math.abs(parseFloat(m[1]) - want) < 0.02;
}

// Geometry of the frame whose tooltip names it, as the page sees it now.
async function frame(page, name) {
	return page.evaluate((n) => {
		for (const g of document.querySelectorAll('g.sec > g')) {
			const t = g.querySelector('title').textContent;
			if (t.substring(0, t.lastIndexOf(' (')) !== n)
				continue;
			const r = g.querySelector('rect');
			const b = r.getBoundingClientRect();
			return {
				width: parseFloat(r.getAttribute('width')),
				x: parseFloat(r.getAttribute('x')),
				hidden: getComputedStyle(g).display === 'none',
				cx: b.x + b.width / 2, cy: b.y + b.height / 2,
			};
		}
		return null;
	}, name);
}

async function main() {
	const profileDir = fs.mkdtempSync(path.join(os.tmpdir(), 'kprof-chromium-'));
	const context = await chromium.launchPersistentContext(profileDir, {
		executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
		headless: true,
		args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
			'--disable-component-update', '--disable-sync', '--no-first-run'],
		viewport: { width: checks.fullWidth + 20, height: 700 },
		timeout: 60000,
	});
	const errors = [];
	try {
		const page = context.pages()[0] || await context.newPage();
		page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
		page.on('console', (m) => {
			if (m.type() === 'error')
				errors.push(`console error: ${m.text()}`);
		});
		await page.goto('file://' + path.resolve(svgPath));

		const before = await frame(page, checks.zoom);
		report('frame to zoom is drawn', before && !before.hidden && before.width < checks.fullWidth,
			JSON.stringify(before));
		if (!before)
			return;
		const childBefore = checks.child ? await frame(page, checks.child) : null;
		await page.mouse.click(before.cx, before.cy);
		const after = await frame(page, checks.zoom);
		report('click zooms the frame to the full width',
			Math.abs(after.width - checks.fullWidth) < 0.01, `width ${after.width}`);
		if (checks.child) {
			const child = await frame(page, checks.child);
			const want = childBefore.width * checks.fullWidth / before.width;
			report('zoom stretches the frame\'s children by the same factor',
				child && !child.hidden && Math.abs(child.width - want) < 0.05,
				`width ${child && child.width}, wanted ${want.toFixed(2)}`);
		}
		if (checks.hiddenAfterZoom) {
			const other = await frame(page, checks.hiddenAfterZoom);
			report('frames outside the zoomed one are hidden', other && other.hidden,
				JSON.stringify(other));
		}
		const unzoomVisible = await page.evaluate(() =>
			getComputedStyle(document.getElementById('unzoom')).display !== 'none');
		report('Reset Zoom appears after zooming', unzoomVisible);
		await page.click('#unzoom');
		const reset = await frame(page, checks.zoom);
		report('Reset Zoom restores the frame', Math.abs(reset.width - before.width) < 0.01 &&
			Math.abs(reset.x - before.x) < 0.01, JSON.stringify(reset));

		page.once('dialog', (d) => d.accept(checks.search));
		await page.click('#search');
		const matched = (await page.textContent('#matched')).trim();
		report('search shows the matched share', sharesEqual(matched, checks.matched),
			`got '${matched}', wanted ${checks.matched}%`);
		const lit = await page.evaluate(() => Array.from(document.querySelectorAll('g.sec rect'))
			.filter((r) => r.getAttribute('fill') === 'rgb(238,0,238)').length);
		report('search highlights matching frames', lit > 0, `${lit} highlighted`);

		page.once('dialog', (d) => d.accept(checks.search2));
		await page.keyboard.press('Control+f');
		const matched2 = (await page.textContent('#matched')).trim();
		report('Ctrl-F searches too', sharesEqual(matched2, checks.matched2),
			`got '${matched2}', wanted ${checks.matched2}%`);

		await page.mouse.move(before.cx, before.cy);
		const details = (await page.textContent('#details')).trim();
		report('mouse-over shows the frame details', details.startsWith(checks.zoom + ' ('),
			`got '${details}'`);

		if (shotPath) {
			page.once('dialog', (d) => d.accept(checks.screenshotSearch || ''));
			await page.click('#search');
			await page.mouse.move(before.cx, before.cy);
			const h = await page.evaluate(() =>
				Math.ceil(parseFloat(document.documentElement.getAttribute('height'))));
			await page.setViewportSize({ width: checks.fullWidth + 20, height: h });
			await page.screenshot({ path: shotPath, timeout: 15000 });
		}
		report('no script errors', errors.length === 0, errors.join('; '));
	} finally {
		await context.close();
		fs.rmSync(profileDir, { recursive: true, force: true });
	}
}

main().then(() => process.exit(failures ? 1 : 0), (e) => {
	console.log(`FAIL: browser: ${e.message.split('\n')[0]}`);
	process.exit(1);
});
