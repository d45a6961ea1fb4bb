package lessons

import "testing"

func TestVersionCacheBounded(t *testing.T) {
	var c versionCache
	for id := int64(1); id <= 3*versionCacheSize; id++ {
		c.put(&CourseVersion{ID: id})
		if n := c.len(); n > versionCacheSize {
			t.Fatalf("after putting version %d the cache holds %d, more than %d", id, n, versionCacheSize)
		}
		if v, ok := c.get(id); !ok || v.ID != id {
			t.Fatalf("version %d, just put, is not in the cache: %v %v", id, v, ok)
		}
	}
	if n := c.len(); n < versionCacheSize*9/10 {
		t.Errorf("the cache holds %d versions: it dropped more than a tenth at a time", n)
	}
	// Putting a version it holds again drops nothing.
	n := c.len()
	c.put(&CourseVersion{ID: 3 * versionCacheSize})
	if c.len() != n {
		t.Errorf("putting a cached version again changed the size from %d to %d", n, c.len())
	}
}
