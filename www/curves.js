// Deletion and insertion curves, drawn the same by the page (www/app.js) and the element
// (www/deep-inside-demo.js).

/** The curves' colours: deletion, insertion, and the random order's (dashed). */
export const CURVE_COLOURS = { deletion: '#d97706', insertion: '#2b6cb0', random: '#999' };

/** Deletion and insertion curves of one map (solid) over the random order's (dashed): p(c)
 * against the fraction of pixels changed, `k` per step. */
export function plotCurves(canvas, curve, random, k, pixels) {
  const ctx = canvas.getContext('2d');
  const { width: w, height: h } = canvas;
  const left = 16, right = 4, top = 4, bottom = 14;
  ctx.clearRect(0, 0, w, h);
  ctx.fillStyle = '#fff';
  ctx.fillRect(0, 0, w, h);
  ctx.setLineDash([]);
  ctx.strokeStyle = '#ccc';
  ctx.lineWidth = 1;
  ctx.strokeRect(left + 0.5, top + 0.5, w - left - right - 1, h - top - bottom - 1);
  ctx.fillStyle = '#666';
  ctx.font = '10px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'top';
  ctx.fillText('1', left - 3, top);
  ctx.textBaseline = 'bottom';
  ctx.fillText('0', left - 3, h - bottom);
  ctx.textBaseline = 'top';
  ctx.textAlign = 'left';
  ctx.fillText('0', left, h - bottom + 2);
  ctx.textAlign = 'right';
  ctx.fillText('all pixels', w - right, h - bottom + 2);
  const x = (i) => left + Math.min(1, (i * k) / pixels) * (w - left - right);
  const y = (p) => top + (1 - p) * (h - top - bottom);
  const line = (values, colour, dash, width) => {
    ctx.beginPath();
    ctx.setLineDash(dash);
    values.forEach((p, i) => (i === 0 ? ctx.moveTo(x(i), y(p)) : ctx.lineTo(x(i), y(p))));
    ctx.strokeStyle = colour;
    ctx.lineWidth = width;
    ctx.stroke();
  };
  line(random.deletion, CURVE_COLOURS.random, [4, 3], 1.5);
  line(random.insertion, CURVE_COLOURS.random, [4, 3], 1.5);
  line(curve.deletion, CURVE_COLOURS.deletion, [], 2);
  line(curve.insertion, CURVE_COLOURS.insertion, [], 2);
  ctx.setLineDash([]);
}
