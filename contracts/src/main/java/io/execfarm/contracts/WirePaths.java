package io.execfarm.contracts;

import java.util.regex.Pattern;

/**
 * Paths of files that travel on the wire, always relative to the working directory of the process
 * that runs a request: components of letters, digits and {@code . _ - + = , @} and spaces,
 * separated by '/', none of them {@code .} or {@code ..}, no leading '/'. A name can then reach
 * nothing outside that directory by its spelling; what a link on the way could reach is the
 * drivers' to refuse (docs/driver-protocol.md).
 */
public final class WirePaths {

    public static final int MAX_LENGTH = 255;
    /** Globs of files to collect: {@link #FILE}'s characters, plus {@code *}, {@code **} and {@code ?}. */
    public static final int MAX_GLOBS = 20;

    private static final Pattern FILE = Pattern.compile("[A-Za-z0-9._\\-+=,@ ]+(/[A-Za-z0-9._\\-+=,@ ]+)*");
    private static final Pattern GLOB = Pattern.compile("[A-Za-z0-9._\\-+=,@ *?]+(/[A-Za-z0-9._\\-+=,@ *?]+)*");

    private WirePaths() {
    }

    public static boolean isFile(String path) {
        return path != null && path.length() <= MAX_LENGTH && FILE.matcher(path).matches() && noDotComponents(path);
    }

    public static boolean isGlob(String glob) {
        return glob != null && glob.length() <= MAX_LENGTH && GLOB.matcher(glob).matches() && noDotComponents(glob);
    }

    /** What a path or glob must be, for error messages. */
    public static String rule(String what) {
        return "must be a relative " + what + " of at most " + MAX_LENGTH + " characters: letters, digits, spaces and "
                + ". _ - + = , @" + (what.equals("glob") ? " * ?" : "") + " in components separated by '/', none of "
                + "them . or .., not starting with '/'";
    }

    private static boolean noDotComponents(String path) {
        for (String component : path.split("/", -1)) {
            if (component.equals(".") || component.equals("..")) {
                return false;
            }
        }
        return true;
    }
}
