package web

import (
	"net/http"

	"github.com/morselhq/morsel/lessons"
)

// route is one entry of the routing table. API routes need an API key and are
// described in openapi.json; a test holds the two to each other.
type route struct {
	Method  string // "" matches every method
	Pattern string // a net/http pattern without the method
	Handler http.Handler
	API     bool
}

// routes lists every route the server answers.
func (s *Server) routes() []route {
	h := func(f http.HandlerFunc) http.Handler { return f }
	return []route{
		{"GET", "/{$}", h(s.home), false},
		{"GET", "/healthz", h(s.healthz), false},
		{"GET", "/readyz", h(s.readyz), false},
		{"GET", "/api/v1/openapi.json", h(s.serveOpenAPI), false},

		{"GET", "/api/v1/teams", s.api(s.listTeams), true},
		{"POST", "/api/v1/teams", s.api(s.createTeam), true},

		{"GET", "/api/v1/reps", s.api(s.listReps), true},
		{"POST", "/api/v1/reps/import", s.api(s.importReps), true},
		{"GET", "/api/v1/reps/{id}", s.api(s.getRep), true},
		{"GET", "/api/v1/reps/{id}/messages", s.api(s.listRepMessages), true},
		{"DELETE", "/api/v1/reps/{id}", s.api(s.removeRep), true},
		{"POST", "/api/v1/reps/{id}/opt-out", s.api(s.optOutRep), true},
		{"POST", "/api/v1/reps/{id}/opt-in", s.api(s.optInRep), true},
		{"DELETE", "/api/v1/reps/{id}/events", s.api(s.deleteRepEvents), true},

		{"POST", "/api/v1/events/void", s.api(s.voidEvent), true},
		{"POST", "/api/v1/events/correct", s.api(s.correctEvent), true},
		{"POST", "/api/v1/events/backfill", s.api(s.backfillEvents), true},

		{"GET", "/api/v1/xapi/statements", s.api(s.listXAPIStatements), true},

		{"GET", "/api/v1/courses", s.api(s.listCourses), true},
		{"POST", "/api/v1/courses", s.api(s.saveCourse), true},
		{"GET", "/api/v1/courses/{id}", s.api(s.getCourse), true},
		{"POST", "/api/v1/courses/{id}/publish", s.api(s.publishCourse), true},

		{"GET", "/api/v1/enrollments", s.api(s.listEnrollments), true},
		{"POST", "/api/v1/enrollments", s.api(s.enroll), true},
		{"GET", "/api/v1/enrollments/{id}/assignments", s.api(s.listAssignments), true},

		{"POST", "/webhooks/twilio/status", h(s.twilioStatus), false},
		{"POST", "/webhooks/twilio/sms", h(s.twilioSMS), false},

		{"GET", "/media/{file}", h(s.media), false},
		{"GET", "/static/{file}", h(s.staticAsset), false},

		{"", "/admin/jobs/", s.forms.Handler(s.page(s.jobsUI)), false},

		{"GET", "/dashboard", s.dashboardPage(s.overview), false},
		{"GET", "/dashboard/reps", s.dashboardPage(s.repTable), false},
		{"GET", "/dashboard/reps.csv", s.dashboardPage(s.repTableCSV), false},
		{"GET", "/dashboard/reps/{id}", s.dashboardPage(s.repPage), false},
		{"GET", "/dashboard/search", s.dashboardPage(s.search), false},
		{"POST", "/dashboard/reps/{id}/notes", s.forms.Handler(s.dashboardPage(s.addNote)), false},
		{"POST", "/dashboard/notes/{id}/edit", s.forms.Handler(s.dashboardPage(s.changeNote(false))), false},
		{"POST", "/dashboard/notes/{id}/delete", s.forms.Handler(s.dashboardPage(s.changeNote(true))), false},
		{"GET", "/dashboard/tags", s.page(s.tagSuggestions, dashboardRoles...), false},
		{"GET", "/mentions", s.page(s.mentionsPage, dashboardRoles...), false},
		{"GET", "/reports/breakdown", s.dashboardPage(s.breakdown), false},
		{"GET", "/reports/breakdown.csv", s.dashboardPage(s.breakdownCSV), false},
		{"GET", "/reports/questions", s.dashboardPage(s.questionReport), false},
		{"GET", "/reports/questions.csv", s.dashboardPage(s.questionReportCSV), false},
		{"GET", "/reports/videos", s.dashboardPage(s.videoReport), false},

		{"GET", "/courses", s.page(s.coursesPage, authorRoles...), false},
		{"POST", "/courses", s.forms.Handler(s.page(s.createCourse, authorRoles...)), false},
		{"POST", "/courses/import", s.forms.Handler(s.page(s.importCourse, authorRoles...)), false},
		{"POST", "/courses/price", s.forms.Handler(s.page(s.setSegmentPrice, lessons.RoleAdmin)), false},
		{"GET", "/courses/{id}", s.page(s.courseEditor, authorRoles...), false},
		{"POST", "/courses/{id}/settings", s.forms.Handler(s.page(s.saveSettings, authorRoles...)), false},
		{"GET", "/courses/{id}/lessons/new", s.page(s.newLesson, authorRoles...), false},
		{"POST", "/courses/{id}/lessons", s.forms.Handler(s.page(s.saveLesson, authorRoles...)), false},
		{"GET", "/courses/{id}/lessons/{key}", s.page(s.editLesson, authorRoles...), false},
		{"POST", "/courses/{id}/lessons/{key}", s.forms.Handler(s.page(s.saveLesson, authorRoles...)), false},
		{"POST", "/courses/{id}/lessons/{key}/move", s.forms.Handler(s.page(s.moveLesson, authorRoles...)), false},
		{"POST", "/courses/{id}/lessons/{key}/delete", s.forms.Handler(s.page(s.deleteLesson, authorRoles...)), false},
		{"POST", "/courses/{id}/lessons/{key}/video", s.forms.Handler(s.page(s.uploadVideo, authorRoles...)), false},
		{"GET", "/courses/{id}/lessons/{key}/page", s.page(s.lessonPagePreview, authorRoles...), false},
		{"GET", "/videos/{name}", h(s.videoFile), false},
		{"POST", "/courses/{id}/publish", s.forms.Handler(s.page(s.publishDraft, authorRoles...)), false},
		{"POST", "/courses/{id}/discard", s.forms.Handler(s.page(s.discardDraft, authorRoles...)), false},
		{"GET", "/courses/{id}/preview", s.page(s.previewCourse, authorRoles...), false},
		{"GET", "/courses/{id}/export", s.page(s.exportCourse, authorRoles...), false},
		{"POST", "/courses/{id}/duplicate", s.forms.Handler(s.page(s.duplicateCourse, authorRoles...)), false},
		{"POST", "/courses/{id}/archive", s.forms.Handler(s.page(s.archiveCourse, authorRoles...)), false},

		{"GET", "/enroll", s.page(s.enrollPage, enrollRoles...), false},
		{"POST", "/enroll", s.forms.Handler(s.page(s.enrollReps, enrollRoles...)), false},
		{"POST", "/enrollments/{id}/pause", s.forms.Handler(s.page(s.changeEnrollment(s.store.PauseEnrollment, "paused"), enrollRoles...)), false},
		{"POST", "/enrollments/{id}/resume", s.forms.Handler(s.page(s.changeEnrollment(s.store.ResumeEnrollment, "resumed"), enrollRoles...)), false},
		{"POST", "/enrollments/{id}/cancel", s.forms.Handler(s.page(s.changeEnrollment(s.store.Unenroll, "cancelled"), enrollRoles...)), false},

		{"GET", "/l/{token}", h(s.lessonPage), false},
		{"POST", "/l/{token}/done", h(s.lessonDone), false},
		{"POST", "/l/{token}/answer", h(s.lessonAnswer), false},
		{"POST", "/t/pings", h(s.pings), false},

		{"GET", "/signin", h(s.signInPage), false},
		{"POST", "/signin", s.forms.Handler(h(s.signIn)), false},
		{"POST", "/signout", s.forms.Handler(h(s.signOut)), false},
		{"GET", "/password", s.signedIn(s.passwordPage, true, nil), false},
		{"POST", "/password", s.forms.Handler(s.signedIn(s.changePassword, true, nil)), false},

		{"GET", "/simulator", s.simulatorPage(s.simulatorHome), false},
		{"GET", "/simulator/reps/{id}", s.simulatorPage(s.simulatorPhone), false},
		{"POST", "/simulator/reps/{id}/reply", s.forms.Handler(s.simulatorPage(s.simulatorReply)), false},

		{"", "/api/", h(s.apiNotFound), false},
		{"", "/", h(s.pageNotFound), false},
	}
}
