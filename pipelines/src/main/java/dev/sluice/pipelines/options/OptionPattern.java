package dev.sluice.pipelines.options;

import java.lang.annotation.ElementType;
import java.lang.annotation.Retention;
import java.lang.annotation.RetentionPolicy;
import java.lang.annotation.Target;

/**
 * The shape an option's value must have, as a regular expression, published as the parameter's
 * regex in Dataflow template metadata so the Dataflow console checks it before launching. The
 * pipeline itself checks the value with a message of its own (naming the option and what is wrong).
 */
@Retention(RetentionPolicy.RUNTIME)
@Target(ElementType.METHOD)
public @interface OptionPattern {
  String value();
}
