// Package xapi turns an organisation's Morsel events into xAPI statements, so
// that a customer can feed them to their own Learning Record Store (LRS).
//
// The statements follow xAPI 1.0.3 (https://github.com/adlnet/xAPI-Spec,
// xAPI-Data.md, part two: "Statement" and its actor, verb, object, result,
// context, id and timestamp) and, for video lessons, the xAPI Video Profile
// v1.0 (https://w3id.org/xapi/video; statement data model at
// https://liveaspankaj.gitbooks.io/xapi-video-profile/content/statement_data_model.html;
// the profile document at
// https://github.com/adlnet/xapi-authored-profiles, Video Profile.jsonld).
//
// What each event becomes (events of other kinds, such as messages sent or
// replies, have no statement):
//
//	lesson_opened               http://adlnet.gov/expapi/verbs/initialized   the lesson
//	segment_watched (video)     https://w3id.org/xapi/video/verbs/played     the video, result.extensions time, played-segments, progress
//	video_paused                https://w3id.org/xapi/video/verbs/paused     the video, time (the player's position), played-segments, progress
//	lesson_completed, video     http://adlnet.gov/expapi/verbs/completed     the video, completion, duration, time, played-segments, progress
//	lesson_completed, text      http://adlnet.gov/expapi/verbs/completed     the lesson, completion
//	lesson_completed, quiz      http://adlnet.gov/expapi/verbs/passed/failed the quiz, score (0-100, scaled 0-1), success against the course's pass mark
//	graded                      http://adlnet.gov/expapi/verbs/answered      the question, success, response (the choice letter)
//	course_completed            http://adlnet.gov/expapi/verbs/completed     the course, completion, score when it has one
//
// A video_ended event (the player reached the end) has no statement: the
// profile's "completed" is Morsel's lesson completion (a share of the
// segments watched), sent once.
//
// Video statements carry the profile's category activity
// (context.contextActivities.category https://w3id.org/xapi/video), the
// video's length in seconds (context extension
// https://w3id.org/xapi/video/extensions/length), the player's session when
// the event has one (https://w3id.org/xapi/video/extensions/session-id), and
// in result.extensions https://w3id.org/xapi/video/extensions/time (seconds),
// https://w3id.org/xapi/video/extensions/progress (the share of the video's
// 15-second segments watched by then, 0 to 1, three decimals) and
// https://w3id.org/xapi/video/extensions/played-segments (the segments
// watched by then as "start[.]end" joined by "[,]", in seconds, adjacent
// segments merged, in the order of the video rather than the order watched:
// Morsel keeps which segments were watched, not each play's path).
//
// The actor is the rep as an account (xAPI 1.0.3, 2.4.2.4 Account Object):
// homePage is the server's public URL, name a UUID derived from the
// organisation and the rep, never their phone number, email or name. Activity
// ids are IRIs under the public URL (/xapi/courses/{id}, /xapi/lessons/{id},
// /xapi/lessons/{id}/questions/{n}). A statement's id is a version 5 UUID of
// the organisation, the rep and the event's key, so exporting again gives the
// same ids, and an LRS stores each statement once; the registration
// (context.registration) is the same kind of UUID of the enrollment.
//
// Events are read as the reports count them (tracking.CurrentEvents): a
// corrected event exports its correction, a voided or deleted one nothing,
// and a removed rep nothing at all. A correction made after an export keeps
// the statement's id with new content, which an LRS that already holds the
// first version refuses (xAPI 1.0.3 answers a conflicting id with 409).
package xapi
