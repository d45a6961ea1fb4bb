// Package lessons is Morsel's domain: organisations and their users, reps and
// teams, courses and their versions, enrollments, the messages each step
// sends, quiz grading and the rules that adapt a rep's path. It holds the
// rules as plain functions and their storage in Postgres (Store); what a
// write causes later is handed, in the same transaction, to a Queue (the
// scheduler's River client) and to the events outbox (tracking.Append).
//
// Most methods of Store run their own transaction. Those that take a pgx.Tx
// are the ones a River job calls inside the transaction that completes it
// (Store.InTx, then River's JobCompleteTx and InsertTx on the same tx): the
// job's outcome, what it writes here and the jobs it queues commit together
// or not at all, so a job retried after a crash neither repeats nor loses a
// step. Nothing else takes a transaction from outside.
//
// Where to look:
//   - course.go, coursefile*.go, rules.go, cadence.go: a course, its file
//     format and checker, the adaptation rules and the send schedule; the
//     checker reads the file with orderedjson, which keeps each object's keys
//     in order and reports JSON syntax errors at their line and column;
//   - courses.go, authoring.go, diff.go: storing, editing and publishing them;
//   - reps.go, repcsv.go, orgs.go, sessions.go, signins.go: who is who;
//   - enrollments.go, continue.go, reminders.go, plan.go: enrolling and each
//     rep's next step;
//   - messages.go (a message, its purposes and statuses), compose.go (the
//     texts), message_schedule.go (building and inserting the messages of
//     steps, and the step after one), outbound.go (what the sender loads; a
//     message accepted, failed or cancelled), delivery.go (the provider's
//     status callbacks, kept when they overtake their send): what is sent
//     and how it fares;
//   - inbound.go, replies.go, answer.go: what comes back, graded;
//   - lesson_page.go, videos.go, watched.go: the rep's lesson page and video
//     progress.
package lessons
