// Loads the <deep-inside-demo> element on pages that have one. mdBook's additional-js are
// classic scripts and the element is a module, so this adds its module script, found relative
// to this file: the book works under any sub-path, and pages without figures load nothing.
if (document.querySelector('deep-inside-demo')) {
  const element = document.createElement('script');
  element.type = 'module';
  element.src = new URL('www/deep-inside-demo.js', document.currentScript.src).href;
  document.head.append(element);
}
