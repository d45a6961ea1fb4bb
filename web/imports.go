package web

import (
	"sync"

	"github.com/morselhq/morsel/lessons/errs"
)

// maxImportsPerOrg is how many rep imports (the API's and the enrollment
// form's files) one organisation runs at once in a process. An import holds
// up to lessons.RepImportMaxRows rows in memory while it is checked, so a
// burst of parallel uploads must not multiply that.
const maxImportsPerOrg = 2

// importSlots counts the rep imports running per organisation.
type importSlots struct {
	mu      sync.Mutex
	running map[int64]int
}

// take claims one of the organisation's import slots, counted and checked
// under one lock, and returns the function that gives it back. With every
// slot taken it returns a codeTooMany error, and nothing is claimed.
func (s *importSlots) take(orgID int64) (release func(), err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.running[orgID] >= maxImportsPerOrg {
		return nil, errs.Errorf(codeTooMany, "Your organisation already has %d rep imports running; try again when one has finished.", maxImportsPerOrg)
	}
	if s.running == nil {
		s.running = make(map[int64]int)
	}
	s.running[orgID]++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.running[orgID]--; s.running[orgID] == 0 {
				delete(s.running, orgID)
			}
		})
	}, nil
}
