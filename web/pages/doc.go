// Package pages holds Morsel's server-rendered HTML pages as templ
// components: the manager dashboard, the trainers' authoring pages, the rep's
// lesson page, sign-in and the phone simulator. Handlers in web fill a page's
// struct and render it; the pages hold no logic beyond display.
package pages
