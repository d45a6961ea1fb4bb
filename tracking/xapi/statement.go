package xapi

import (
	"fmt"

	"github.com/google/uuid"
)

// Verbs (xAPI's ADL vocabulary and the Video Profile's).
const (
	VerbInitialized = "http://adlnet.gov/expapi/verbs/initialized"
	VerbPlayed      = "https://w3id.org/xapi/video/verbs/played"
	VerbPaused      = "https://w3id.org/xapi/video/verbs/paused"
	VerbCompleted   = "http://adlnet.gov/expapi/verbs/completed"
	VerbAnswered    = "http://adlnet.gov/expapi/verbs/answered"
	VerbPassed      = "http://adlnet.gov/expapi/verbs/passed"
	VerbFailed      = "http://adlnet.gov/expapi/verbs/failed"
)

// Activity types.
const (
	TypeCourse      = "http://adlnet.gov/expapi/activities/course"
	TypeLesson      = "http://adlnet.gov/expapi/activities/lesson"
	TypeAssessment  = "http://adlnet.gov/expapi/activities/assessment"
	TypeInteraction = "http://adlnet.gov/expapi/activities/cmi.interaction"
	TypeVideo       = "https://w3id.org/xapi/video/activity-type/video"
	TypeProfile     = "http://adlnet.gov/expapi/activities/profile"
)

// The Video Profile's IRI (its category activity) and extensions.
const (
	VideoProfile         = "https://w3id.org/xapi/video"
	ExtTime              = "https://w3id.org/xapi/video/extensions/time"
	ExtProgress          = "https://w3id.org/xapi/video/extensions/progress"
	ExtPlayedSegments    = "https://w3id.org/xapi/video/extensions/played-segments"
	ExtLength            = "https://w3id.org/xapi/video/extensions/length"
	ExtSessionID         = "https://w3id.org/xapi/video/extensions/session-id"
	segmentRangeSep      = "[.]"
	segmentListSeparator = "[,]"
)

// verbNames are the verbs' display names.
var verbNames = map[string]string{
	VerbInitialized: "initialized", VerbPlayed: "played", VerbPaused: "paused", VerbCompleted: "completed",
	VerbAnswered: "answered", VerbPassed: "passed", VerbFailed: "failed",
}

// Statement is one xAPI statement, as an LRS's POST /statements takes it.
type Statement struct {
	ID        string   `json:"id"`
	Actor     Agent    `json:"actor"`
	Verb      Verb     `json:"verb"`
	Object    Activity `json:"object"`
	Result    *Result  `json:"result,omitempty"`
	Context   *Context `json:"context,omitempty"`
	Timestamp string   `json:"timestamp"`
}

// Agent is the statement's actor, identified by an account.
type Agent struct {
	ObjectType string  `json:"objectType"`
	Account    Account `json:"account"`
}

// Account identifies a person by a name on a system.
type Account struct {
	HomePage string `json:"homePage"`
	Name     string `json:"name"`
}

// Verb is what the actor did.
type Verb struct {
	ID      string            `json:"id"`
	Display map[string]string `json:"display"`
}

// Activity is the statement's object, or an activity of its context.
type Activity struct {
	ObjectType string      `json:"objectType"`
	ID         string      `json:"id"`
	Definition *Definition `json:"definition,omitempty"`
}

// Definition describes an activity.
type Definition struct {
	Type                    string            `json:"type,omitempty"`
	Name                    map[string]string `json:"name,omitempty"`
	InteractionType         string            `json:"interactionType,omitempty"`
	CorrectResponsesPattern []string          `json:"correctResponsesPattern,omitempty"`
	Choices                 []Choice          `json:"choices,omitempty"`
}

// Choice is one choice of a multiple-choice interaction.
type Choice struct {
	ID          string            `json:"id"`
	Description map[string]string `json:"description"`
}

// Result is the outcome of the statement.
type Result struct {
	Score      *Score         `json:"score,omitempty"`
	Success    *bool          `json:"success,omitempty"`
	Completion *bool          `json:"completion,omitempty"`
	Response   string         `json:"response,omitempty"`
	Duration   string         `json:"duration,omitempty"`
	Extensions map[string]any `json:"extensions,omitempty"`
}

// Score is a quiz's score: raw between min and max, scaled from 0 to 1.
type Score struct {
	Scaled float64 `json:"scaled"`
	Raw    float64 `json:"raw"`
	Min    float64 `json:"min"`
	Max    float64 `json:"max"`
}

// Context is where the statement happened.
type Context struct {
	Registration      string             `json:"registration,omitempty"`
	ContextActivities *ContextActivities `json:"contextActivities,omitempty"`
	Platform          string             `json:"platform,omitempty"`
	Extensions        map[string]any     `json:"extensions,omitempty"`
}

// ContextActivities are the activities a statement's object is part of.
type ContextActivities struct {
	Parent   []Activity `json:"parent,omitempty"`
	Grouping []Activity `json:"grouping,omitempty"`
	Category []Activity `json:"category,omitempty"`
}

// namespace is the namespace of every name-based UUID Morsel gives in xAPI
// (a fixed random UUID): statements, reps and registrations.
var namespace = uuid.MustParse("6f1d4a52-0b7e-4c1e-9a43-2c8e5d7b91f0")

// StatementID is the id of the statement of an event: a version 5 UUID of
// the organisation, the rep and the event's key (unique within them), the
// same at every export.
func StatementID(orgID, repID int64, key string) string {
	return uuid.NewSHA1(namespace, fmt.Appendf(nil, "statement/%d/%d/%s", orgID, repID, key)).String()
}

// RepAccountName is the name of a rep's xAPI account: a version 5 UUID of the
// organisation and the rep, which says nothing about the rep.
func RepAccountName(orgID, repID int64) string {
	return uuid.NewSHA1(namespace, fmt.Appendf(nil, "rep/%d/%d", orgID, repID)).String()
}

// Registration is the registration (context.registration) of an enrollment.
func Registration(orgID, enrollmentID int64) string {
	return uuid.NewSHA1(namespace, fmt.Appendf(nil, "enrollment/%d/%d", orgID, enrollmentID)).String()
}
