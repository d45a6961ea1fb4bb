package lessons

import (
	"sync"
	"time"
)

// zones caches loaded time zones: time.LoadLocation reads the zone file on
// every call, and every message needs its rep's zone.
var zones sync.Map // name -> *time.Location

// Location returns the IANA time zone with the name, loaded once.
func Location(name string) (*time.Location, error) {
	if loc, ok := zones.Load(name); ok {
		return loc.(*time.Location), nil
	}
	loc, err := time.LoadLocation(name)
	if err != nil {
		return nil, err
	}
	zones.Store(name, loc)
	return loc, nil
}
