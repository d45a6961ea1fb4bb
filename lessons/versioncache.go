package lessons

import "sync"

// versionCacheSize bounds the published versions a store keeps in memory:
// a few KiB each, so a few MiB at most, however many organisations publish.
const versionCacheSize = 1_000

// versionCache holds published course versions, which never change, so that
// sending a step or opening a lesson does not read its course each time.
type versionCache struct {
	mu       sync.Mutex
	versions map[int64]*CourseVersion
}

func (c *versionCache) get(id int64) (*CourseVersion, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.versions[id]
	return v, ok
}

// put keeps v. A full cache first drops a tenth of what it holds, chosen by
// map order: a version dropped is read again when next used.
func (c *versionCache) put(v *CourseVersion) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.versions == nil {
		c.versions = make(map[int64]*CourseVersion)
	}
	if _, ok := c.versions[v.ID]; !ok && len(c.versions) >= versionCacheSize {
		for id := range c.versions {
			if len(c.versions) < versionCacheSize*9/10 {
				break
			}
			delete(c.versions, id)
		}
	}
	c.versions[v.ID] = v
}

func (c *versionCache) len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.versions)
}
