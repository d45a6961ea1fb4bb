package lessons_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/morselhq/morsel/lessons"
	"github.com/morselhq/morsel/lessons/errs"
)

func TestSessions(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	u, password, err := b.store.CreateUser(ctx, b.org.ID, lessons.NewUser{Name: "Mia Manager", Email: "mia@example.com", Role: lessons.RoleManager, Teams: []string{"North", "East"}})
	require.NoError(t, err)

	first, err := b.store.StartSession(ctx, u)
	require.NoError(t, err)
	require.Equal(t, b.now.Add(lessons.SessionTTL), first.Expires)
	second, err := b.store.StartSession(ctx, u)
	require.NoError(t, err)
	require.NotEqual(t, first.Token, second.Token)

	got, err := b.store.SessionUser(ctx, first.Token)
	require.NoError(t, err)
	require.Equal(t, u.ID, got.ID)
	require.Equal(t, lessons.RoleManager, got.Role)
	require.Equal(t, []string{"East", "North"}, got.Teams)
	require.True(t, got.MustChangePassword)

	for _, token := range []string{"", "nonsense", first.Token + "x"} {
		_, err := b.store.SessionUser(ctx, token)
		requireCode(t, err, errs.Unauthorized)
	}

	t.Run("change password", func(t *testing.T) {
		for _, tt := range []struct {
			name, current, next string
			paths               []string
		}{
			{"wrong current", "wrong", "a new password", []string{"current"}},
			{"too short", password, "short", []string{"password"}},
			{"too long", password, string(make([]byte, 73)), []string{"password"}},
			{"unchanged", password, password, []string{"password"}},
			{"wrong and short", "wrong", "short", []string{"current", "password"}},
		} {
			err := b.store.ChangePassword(ctx, u, tt.current, tt.next, first.Token)
			requireCode(t, err, errs.Invalid)
			var paths []string
			for _, d := range errs.As(err).Details {
				paths = append(paths, d.Path)
			}
			require.Equal(t, tt.paths, paths, tt.name)
		}
		_, err := b.store.Authenticate(ctx, u.Email, password)
		require.NoError(t, err, "a refused change leaves the password as it was")

		require.NoError(t, b.store.ChangePassword(ctx, u, password, "correct horse battery", first.Token))
		_, err = b.store.Authenticate(ctx, u.Email, password)
		requireCode(t, err, errs.Unauthorized)
		authed, err := b.store.Authenticate(ctx, u.Email, "correct horse battery")
		require.NoError(t, err)
		require.False(t, authed.MustChangePassword)

		_, err = b.store.SessionUser(ctx, second.Token)
		requireCode(t, err, errs.Unauthorized) // the other session ended
		got, err := b.store.SessionUser(ctx, first.Token)
		require.NoError(t, err, "the session that changed it stays")
		require.False(t, got.MustChangePassword)
	})

	t.Run("sign out and expiry", func(t *testing.T) {
		third, err := b.store.StartSession(ctx, u)
		require.NoError(t, err)
		require.NoError(t, b.store.EndSession(ctx, first.Token))
		require.NoError(t, b.store.EndSession(ctx, first.Token), "ending it twice is no error")
		_, err = b.store.SessionUser(ctx, first.Token)
		requireCode(t, err, errs.Unauthorized)
		_, err = b.store.SessionUser(ctx, third.Token)
		require.NoError(t, err, "signing out of one browser leaves the others")

		_, err = b.at(b.now.Add(lessons.SessionTTL-time.Second)).SessionUser(ctx, third.Token)
		require.NoError(t, err, "a second before its TTL is up the session stands")
		_, err = b.at(b.now.Add(lessons.SessionTTL)).SessionUser(ctx, third.Token)
		requireCode(t, err, errs.Unauthorized)
	})
}

func TestResetPassword(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	b := setup(t)
	other, err := b.store.CreateOrg(ctx, lessons.Org{Slug: "globex", Name: "Globex"})
	require.NoError(t, err)
	u, _, err := b.store.CreateUser(ctx, b.org.ID, lessons.NewUser{Name: "Tia Trainer", Email: "tia@example.com", Role: lessons.RoleTrainer})
	require.NoError(t, err)
	require.NoError(t, b.store.SetPassword(ctx, u.Email, "tia's own password", false))
	sess, err := b.store.StartSession(ctx, u)
	require.NoError(t, err)

	_, err = b.store.ResetPassword(ctx, other.ID, "tia@example.com")
	requireCode(t, err, errs.NotFound) // another organisation's user
	_, err = b.store.ResetPassword(ctx, b.org.ID, "nobody@example.com")
	requireCode(t, err, errs.NotFound)
	_, err = b.store.SessionUser(ctx, sess.Token)
	require.NoError(t, err, "a refused reset changes nothing")

	oneTime, err := b.store.ResetPassword(ctx, b.org.ID, " TIA@example.com")
	require.NoError(t, err)
	_, err = b.store.SessionUser(ctx, sess.Token)
	requireCode(t, err, errs.Unauthorized)
	_, err = b.store.Authenticate(ctx, u.Email, "tia's own password")
	requireCode(t, err, errs.Unauthorized)
	got, err := b.store.Authenticate(ctx, u.Email, oneTime)
	require.NoError(t, err)
	require.True(t, got.MustChangePassword)
}
